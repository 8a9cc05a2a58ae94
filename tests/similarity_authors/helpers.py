# Author "helpers": small private helpers that the graded functions share.


def _arr(x):
    return np.asarray(x, dtype=np.float64)


def _softplus(t):
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def _stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid(h):
    out = _stable_sigmoid(_arr(h))
    if np.isscalar(h) or (isinstance(h, np.generic)):
        return float(out)
    return out


def predict_proba(X, W):
    logits = np.matmul(_arr(X), _arr(W))
    return sigmoid(logits)


def bce_loss(y, p):
    y = _arr(y)
    p = _arr(p)
    per_example = y * np.log(p) + (1.0 - y) * np.log1p(-p)
    return -float(per_example.sum())


def bce_loss_from_logits(y, h):
    y = _arr(y)
    h = _arr(h)
    per_example = y * _softplus(-h) + (1.0 - y) * _softplus(h)
    return float(per_example.sum())


def xi1(W, X):
    return -1.0 * _arr(W) * _arr(X)


def dxi1_dW(W, X):
    return -1.0 * _arr(X)


def xi2(xi1):
    return np.exp(_arr(xi1))


def dxi2_dxi1(xi1):
    return np.exp(_arr(xi1))


def xi3(xi2):
    return _arr(xi2) + 1.0


def dxi3_dxi2(xi2):
    return np.full(np.shape(xi2), 1.0)


def xi4(xi3):
    return np.reciprocal(_arr(xi3))


def dxi4_dxi3(xi3):
    return -np.reciprocal(_arr(xi3) * _arr(xi3))


def xi5(xi4):
    return np.log(_arr(xi4))


def dxi5_dxi4(xi4):
    return np.reciprocal(_arr(xi4))


def loss_a(y, xi5):
    return -1.0 * _arr(y) * _arr(xi5)


def dloss_a_dxi5(y, xi5):
    return -1.0 * _arr(y) * np.ones(np.shape(xi5))


def xi5b(xi4):
    return 1.0 - _arr(xi4)


def dxi5b_dxi4(xi4):
    return np.full(np.shape(xi4), -1.0)


def xi6b(xi5b):
    return np.log(_arr(xi5b))


def dxi6b_dxi5b(xi5b):
    return np.reciprocal(_arr(xi5b))


def loss_b(y, xi6b):
    return -1.0 * (1.0 - _arr(y)) * _arr(xi6b)


def dloss_b_dxi6b(y, xi6b):
    return -1.0 * (1.0 - _arr(y)) * np.ones(np.shape(xi6b))


def _chain_rows(X, y, W):
    values, partials = [], []
    current = xi1(W, X)
    values.append(current)
    partials.append(dxi1_dW(W, X))
    for step, deriv in ((xi2, dxi2_dxi1), (xi3, dxi3_dxi2), (xi4, dxi4_dxi3), (xi5, dxi5_dxi4)):
        partials.append(deriv(current))
        current = step(current)
        values.append(current)
    partials.append(dloss_a_dxi5(y, current))
    values.append(loss_a(y, current))
    return np.array(values, dtype=float), np.array(partials, dtype=float)


def forward_mode(X, y, W):
    values, partials = _chain_rows(X, y, W)
    acc = np.ones(6)
    acc[0] = partials[0]
    for k in range(1, 6):
        acc[k] = acc[k - 1] * partials[k]
    return {"value": values, "partial": partials, "dW": acc}


def backward_mode(X, y, W):
    values, partials = _chain_rows(X, y, W)
    adj = np.ones(6)
    for k in (4, 3, 2, 1, 0):
        adj[k] = partials[k + 1] * adj[k + 1]
    return {"value": values, "partial": partials, "adjoint": adj, "dW": float(partials[0] * adj[0])}


def loss_and_grad(X, y, W):
    X = _arr(X)
    y = _arr(y)
    h = X @ _arr(W)
    total = np.sum(y * _softplus(-h) + (1.0 - y) * _softplus(h))
    residual = sigmoid(h) - y
    return float(total), residual @ X


def _step(w, g, lr):
    return w - lr * _arr(g)


def gradient_descent(grad, w0, lr, n_steps):
    w = _arr(w0).copy()
    out = [w]
    for _ in range(n_steps):
        w = _step(w, grad(w.copy()), lr)
        out.append(w)
    return np.stack(out)


def fit_logistic(X, y, lr, n_steps):
    w0 = np.zeros(_arr(X).shape[1])
    path = gradient_descent(lambda w: loss_and_grad(X, y, w)[1], w0, lr, n_steps)
    return path[-1]


def minibatches(n, batch_size, rng):
    shuffled = rng.permutation(n)
    count = -(-n // batch_size)
    return [shuffled[k * batch_size:(k + 1) * batch_size] for k in range(count)]


def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):
    w = _arr(w0).copy()
    history = [w]
    for _ in range(n_epochs):
        for batch in minibatches(n, batch_size, rng):
            w = _step(w, grad_batch(w.copy(), batch), lr)
            history.append(w)
    return np.stack(history)


def _is_leaf(node):
    return node["op"] in ("input", "const")


def _node_args(node, values):
    return [values[name] for name in node["inputs"]]


def graph_forward(graph, inputs):
    values = {}
    for node in graph:
        if node["op"] == "const":
            values[node["name"]] = float(node["value"])
        elif _is_leaf(node):
            values[node["name"]] = float(inputs[node["name"]])
        else:
            f = OPS[node["op"]][0]
            values[node["name"]] = f(*_node_args(node, values))
    return values


def graph_backward(graph, values):
    adjoint = {node["name"]: 0.0 for node in graph}
    adjoint[graph[-1]["name"]] = 1.0
    for node in reversed(graph):
        if _is_leaf(node):
            continue
        df = OPS[node["op"]][1]
        local = df(*_node_args(node, values))
        for parent, d in zip(node["inputs"], local):
            adjoint[parent] += d * adjoint[node["name"]]
    return adjoint


def _standardize(column):
    column = column.astype(float)
    return (column - column.mean()) / column.std(ddof=0)


def heart_design(df, columns):
    names = [columns] if isinstance(columns, str) else columns
    parts = [np.ones(len(df))] + [_standardize(df[name]).to_numpy() for name in names]
    return np.column_stack(parts), np.where(df["AHD"] == "Yes", 1.0, 0.0)


def train_neuron(X, y, lr, n_steps):
    return fit_logistic(X, y, lr, n_steps)


def neuron_accuracy(X, y, W):
    predicted = np.where(predict_proba(X, W) > 0.5, 1.0, 0.0)
    return float(np.count_nonzero(predicted == _arr(y)) / len(predicted))


def perceptron(X, y, n_epochs):
    X = _arr(X)
    y = _arr(y)
    w = np.zeros(X.shape[1])
    for _ in range(n_epochs):
        for row, target in zip(X, y):
            fired = 1.0 if np.dot(row, w) > 0 else 0.0
            w = w + (target - fired) * row
    return w


def init_mlp(layer_sizes, rng):
    params = []
    for n_in, n_out in zip(layer_sizes, layer_sizes[1:]):
        params.append((rng.normal(0, n_in ** -0.5, size=(n_in, n_out)), np.zeros(n_out)))
    return params


def _activate(name, Z):
    if name == "sigmoid":
        return sigmoid(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0.0)
    raise ValueError(f"unknown activation {name!r}")


def _activation_grad(name, A, Z):
    if name == "sigmoid":
        return A * (1.0 - A)
    if name == "tanh":
        return 1.0 - A * A
    return (Z > 0).astype(float)


def mlp_forward(params, X, activation):
    _activate(activation, np.zeros(1))
    A = [_arr(X)]
    Z = []
    for depth, (W, b) in enumerate(params):
        Z.append(A[-1] @ W + b)
        last = depth == len(params) - 1
        A.append(sigmoid(Z[-1]) if last else _activate(activation, Z[-1]))
    return A[-1][:, 0], {"activation": activation, "A": A, "Z": Z}


def mlp_backward(params, cache, y):
    A, Z = cache["A"], cache["Z"]
    delta = A[-1] - _arr(y)[:, None]
    grads = []
    for depth in range(len(params) - 1, -1, -1):
        grads.append((A[depth].T @ delta, delta.sum(axis=0)))
        if depth > 0:
            delta = delta @ params[depth][0].T
            delta = delta * _activation_grad(cache["activation"], A[depth], Z[depth - 1])
    return grads[::-1]


def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    params = init_mlp(layer_sizes, rng)
    for _ in range(n_epochs):
        for batch in minibatches(len(X), batch_size, rng):
            _, cache = mlp_forward(params, X[batch], activation)
            grads = mlp_backward(params, cache, y[batch])
            params = [(_step(W, dW, lr), _step(b, db, lr)) for (W, b), (dW, db) in zip(params, grads)]
    return params
