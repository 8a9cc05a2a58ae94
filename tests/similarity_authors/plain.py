# Author "plain": while loops, indices, einsum and explicit bookkeeping.


def sigmoid(h):
    x = np.array(h, dtype=float, copy=True)
    pos = x >= 0
    x[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    x[~pos] = ex / (ex + 1.0)
    if np.ndim(h) == 0 and not isinstance(h, np.ndarray):
        return x.item()
    return x


def predict_proba(X, W):
    scores = np.einsum("ij,j->i", np.asarray(X, dtype=float), np.asarray(W, dtype=float))
    return sigmoid(scores)


def bce_loss(y, p):
    flat_y = np.array(y, dtype=float).flatten()
    flat_p = np.array(p, dtype=float).flatten()
    pos = np.dot(flat_y, np.log(flat_p))
    neg = np.dot(1 - flat_y, np.log(1 - flat_p))
    return -(pos + neg)


def bce_loss_from_logits(y, h):
    flat_y = np.array(y, dtype=float).flatten()
    flat_h = np.array(h, dtype=float).flatten()
    big = np.maximum(flat_h, 0)
    return float(np.sum(big - flat_y * flat_h + np.log(1 + np.exp(-np.abs(flat_h)))))


def xi1(W, X):
    return np.negative(np.multiply(X, W))


def dxi1_dW(W, X):
    return np.negative(np.array(X, dtype=float))


def xi2(xi1):
    return np.power(np.e, np.array(xi1, dtype=float))


def dxi2_dxi1(xi1):
    return np.power(np.e, np.array(xi1, dtype=float))


def xi3(xi2):
    return np.array(xi2, dtype=float) + 1


def dxi3_dxi2(xi2):
    return np.ones(np.shape(xi2))


def xi4(xi3):
    return np.power(np.array(xi3, dtype=float), -1)


def dxi4_dxi3(xi3):
    return np.negative(np.power(np.array(xi3, dtype=float), -2))


def xi5(xi4):
    return np.log(np.array(xi4, dtype=float))


def dxi5_dxi4(xi4):
    return np.power(np.array(xi4, dtype=float), -1)


def loss_a(y, xi5):
    return np.negative(np.multiply(y, xi5))


def dloss_a_dxi5(y, xi5):
    return np.negative(np.array(y, dtype=float)) * np.ones(np.shape(xi5))


def xi5b(xi4):
    return 1 - np.array(xi4, dtype=float)


def dxi5b_dxi4(xi4):
    return np.negative(np.ones(np.shape(xi4)))


def xi6b(xi5b):
    return np.log(np.array(xi5b, dtype=float))


def dxi6b_dxi5b(xi5b):
    return np.power(np.array(xi5b, dtype=float), -1)


def loss_b(y, xi6b):
    return np.negative(np.multiply(1 - np.array(y, dtype=float), xi6b))


def dloss_b_dxi6b(y, xi6b):
    return np.negative(1 - np.array(y, dtype=float)) * np.ones(np.shape(xi6b))


STEPS = [("xi2", "dxi2_dxi1"), ("xi3", "dxi3_dxi2"), ("xi4", "dxi4_dxi3"), ("xi5", "dxi5_dxi4")]


def forward_mode(X, y, W):
    table = {"value": [xi1(W, X)], "partial": [dxi1_dW(W, X)]}
    idx = 0
    while idx < len(STEPS):
        f_name, d_name = STEPS[idx]
        prev = table["value"][-1]
        table["partial"].append(globals()[d_name](prev))
        table["value"].append(globals()[f_name](prev))
        idx += 1
    table["partial"].append(dloss_a_dxi5(y, table["value"][-1]))
    table["value"].append(loss_a(y, table["value"][-1]))
    table["value"] = np.array(table["value"], dtype=float)
    table["partial"] = np.array(table["partial"], dtype=float)
    products = []
    acc = 1.0
    idx = 0
    while idx < 6:
        acc *= table["partial"][idx]
        products.append(acc)
        idx += 1
    table["dW"] = np.array(products)
    return table


def backward_mode(X, y, W):
    table = forward_mode(X, y, W)
    partial = table["partial"]
    adjoint = [1.0]
    idx = 5
    while idx > 0:
        adjoint.insert(0, adjoint[0] * partial[idx])
        idx -= 1
    return {"value": table["value"], "partial": partial, "adjoint": np.array(adjoint),
            "dW": float(adjoint[0] * partial[0])}


def loss_and_grad(X, y, W):
    X = np.array(X, dtype=float)
    y = np.array(y, dtype=float)
    z = np.einsum("ij,j->i", X, np.array(W, dtype=float))
    prob = sigmoid(z)
    loss_terms = np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)
    gradient = np.einsum("i,ij->j", prob - y, X)
    return float(loss_terms.sum()), gradient


def gradient_descent(grad, w0, lr, n_steps):
    trajectory = np.zeros((n_steps + 1, np.size(w0)))
    trajectory[0, :] = w0
    step = 1
    while step <= n_steps:
        trajectory[step, :] = trajectory[step - 1, :] - lr * np.array(grad(trajectory[step - 1, :].copy()))
        step += 1
    return trajectory


def fit_logistic(X, y, lr, n_steps):
    d = np.shape(X)[1]
    trajectory = gradient_descent(lambda w: loss_and_grad(X, y, w)[1], np.zeros(d), lr, n_steps)
    return trajectory[n_steps]


def minibatches(n, batch_size, rng):
    idx = np.arange(n)
    rng.shuffle(idx)
    result = []
    lo = 0
    while lo < n:
        hi = min(lo + batch_size, n)
        result.append(idx[lo:hi])
        lo = hi
    return result


def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):
    steps_per_epoch = -(-n // batch_size)
    trajectory = np.zeros((n_epochs * steps_per_epoch + 1, np.size(w0)))
    trajectory[0, :] = w0
    row = 1
    epoch = 0
    while epoch < n_epochs:
        for batch in minibatches(n, batch_size, rng):
            g = np.array(grad_batch(trajectory[row - 1, :].copy(), batch))
            trajectory[row, :] = trajectory[row - 1, :] - lr * g
            row += 1
        epoch += 1
    return trajectory


def graph_forward(graph, inputs):
    result = {}
    position = 0
    while position < len(graph):
        node = graph[position]
        kind = node["op"]
        if kind == "input":
            result[node["name"]] = inputs[node["name"]]
        if kind == "const":
            result[node["name"]] = node["value"]
        if kind not in ("input", "const"):
            f, _ = OPS[kind]
            result[node["name"]] = f(*[result[k] for k in node["inputs"]])
        position += 1
    return result


def graph_backward(graph, values):
    order = list(range(len(graph)))
    order.reverse()
    total = {}
    for node in graph:
        total[node["name"]] = 0.0
    total[graph[order[0]]["name"]] = 1.0
    for position in order:
        node = graph[position]
        kind = node["op"]
        if kind == "input" or kind == "const":
            continue
        _, df = OPS[kind]
        local = df(*[values[k] for k in node["inputs"]])
        position_in = 0
        while position_in < len(node["inputs"]):
            source = node["inputs"][position_in]
            total[source] = total[source] + local[position_in] * total[node["name"]]
            position_in += 1
    return total


def heart_design(df, columns):
    if type(columns) is str:
        columns = [columns]
    block = np.array(df[list(columns)], dtype=float)
    centre = np.nanmean(block, axis=0)
    spread = np.nanstd(block, axis=0)
    X = np.hstack([np.ones((block.shape[0], 1)), (block - centre) / spread])
    y = np.array(df["AHD"] == "Yes", dtype=float)
    return X, y


def train_neuron(X, y, lr, n_steps):
    return np.array(fit_logistic(X, y, lr, n_steps), dtype=float)


def neuron_accuracy(X, y, W):
    hits = np.sum(np.array(predict_proba(X, W) > 0.5, dtype=float) == np.array(y, dtype=float))
    return hits / np.size(y)


def perceptron(X, y, n_epochs):
    X = np.array(X, dtype=float)
    w = np.zeros(np.shape(X)[1])
    epoch = 0
    while epoch < n_epochs:
        row = 0
        while row < np.shape(X)[0]:
            out = 0.0
            if np.dot(X[row], w) > 0:
                out = 1.0
            w = w + (y[row] - out) * X[row]
            row += 1
        epoch += 1
    return w


def init_mlp(layer_sizes, rng):
    out = []
    pos = 0
    while pos + 1 < len(layer_sizes):
        rows, cols = layer_sizes[pos], layer_sizes[pos + 1]
        weights = rng.normal(0, 1 / np.sqrt(rows), size=(rows, cols))
        out.append((weights, np.zeros(cols)))
        pos += 1
    return out


def mlp_forward(params, X, activation):
    if activation == "sigmoid":
        hidden = sigmoid
    elif activation == "tanh":
        hidden = np.tanh
    elif activation == "relu":
        hidden = lambda z: np.where(z > 0, z, 0.0)
    else:
        raise ValueError("activation must be sigmoid, tanh or relu")
    cache = {"activation": activation, "A": [np.array(X, dtype=float)], "Z": []}
    layer = 0
    while layer < len(params):
        weights, bias = params[layer]
        z = np.dot(cache["A"][-1], weights) + bias
        cache["Z"].append(z)
        cache["A"].append(sigmoid(z) if layer + 1 == len(params) else hidden(z))
        layer += 1
    return cache["A"][-1][:, 0], cache


def mlp_backward(params, cache, y):
    grads = [None for _ in params]
    err = cache["A"][-1] - np.array(y, dtype=float).reshape(-1, 1)
    layer = len(params) - 1
    while layer >= 0:
        grads[layer] = (np.dot(cache["A"][layer].T, err), np.sum(err, axis=0))
        if layer == 0:
            break
        a = cache["A"][layer]
        if cache["activation"] == "sigmoid":
            slope = a * (1 - a)
        elif cache["activation"] == "tanh":
            slope = 1 - np.square(a)
        else:
            slope = np.where(cache["Z"][layer - 1] > 0, 1.0, 0.0)
        err = np.dot(err, params[layer][0].T) * slope
        layer -= 1
    return grads


def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    params = init_mlp(layer_sizes, rng)
    epoch = 0
    while epoch < n_epochs:
        for batch in minibatches(len(X), batch_size, rng):
            _, cache = mlp_forward(params, X[batch], activation)
            grads = mlp_backward(params, cache, y[batch])
            layer = 0
            while layer < len(params):
                weights, bias = params[layer]
                dweights, dbias = grads[layer]
                params[layer] = (weights - lr * dweights, bias - lr * dbias)
                layer += 1
        epoch += 1
    return params
