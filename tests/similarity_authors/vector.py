# Author "vector": whole-array numpy, short functions, no explicit loops where numpy has one.


def sigmoid(h):
    a = np.asarray(h, dtype=np.float64)
    t = np.exp(-np.abs(a))
    r = np.where(a >= 0, 1 / (1 + t), t / (1 + t))
    return r if isinstance(h, np.ndarray) else float(r)


def predict_proba(X, W):
    return sigmoid(np.asarray(X, float).dot(np.asarray(W, float)))


def bce_loss(y, p):
    y, p = np.asarray(y, float), np.asarray(p, float)
    return float(-(y * np.log(p)).sum() - ((1 - y) * np.log(1 - p)).sum())


def bce_loss_from_logits(y, h):
    y, h = np.asarray(y, float), np.asarray(h, float)
    return float(np.sum(np.logaddexp(0.0, h) - y * h))


def xi1(W, X):
    return -(np.asarray(W) * np.asarray(X))


def dxi1_dW(W, X):
    return -np.asarray(X) * np.ones_like(np.asarray(W, float))


def xi2(xi1):
    return np.exp(np.asarray(xi1, float))


def dxi2_dxi1(xi1):
    return xi2(xi1)


def xi3(xi2):
    return 1 + np.asarray(xi2, float)


def dxi3_dxi2(xi2):
    return 1.0


def xi4(xi3):
    return 1 / np.asarray(xi3, float)


def dxi4_dxi3(xi3):
    return -np.asarray(xi3, float) ** -2


def xi5(xi4):
    return np.log(np.asarray(xi4, float))


def dxi5_dxi4(xi4):
    return np.asarray(xi4, float) ** -1


def loss_a(y, xi5):
    return -np.asarray(y, float) * xi5


def dloss_a_dxi5(y, xi5):
    return -np.asarray(y, float)


def xi5b(xi4):
    return 1 - np.asarray(xi4, float)


def dxi5b_dxi4(xi4):
    return -1.0


def xi6b(xi5b):
    return np.log(np.asarray(xi5b, float))


def dxi6b_dxi5b(xi5b):
    return np.asarray(xi5b, float) ** -1


def loss_b(y, xi6b):
    return -(1 - np.asarray(y, float)) * xi6b


def dloss_b_dxi6b(y, xi6b):
    return np.asarray(y, float) - 1


def forward_mode(X, y, W):
    v1 = xi1(W, X)
    v2 = xi2(v1)
    v3 = xi3(v2)
    v4 = xi4(v3)
    v5 = xi5(v4)
    la = loss_a(y, v5)
    value = np.array([v1, v2, v3, v4, v5, la], dtype=float)
    partial = np.array([dxi1_dW(W, X), dxi2_dxi1(v1), dxi3_dxi2(v2), dxi4_dxi3(v3),
                        dxi5_dxi4(v4), dloss_a_dxi5(y, v5)], dtype=float)
    return dict(value=value, partial=partial, dW=np.cumprod(partial))


def backward_mode(X, y, W):
    v1 = xi1(W, X)
    v2 = xi2(v1)
    v3 = xi3(v2)
    v4 = xi4(v3)
    v5 = xi5(v4)
    value = np.array([v1, v2, v3, v4, v5, loss_a(y, v5)], dtype=float)
    partial = np.array([dxi1_dW(W, X), dxi2_dxi1(v1), dxi3_dxi2(v2), dxi4_dxi3(v3),
                        dxi5_dxi4(v4), dloss_a_dxi5(y, v5)], dtype=float)
    adjoint = np.append(np.cumprod(partial[:0:-1])[::-1], 1.0)
    return dict(value=value, partial=partial, adjoint=adjoint, dW=float(adjoint[0] * partial[0]))


def loss_and_grad(X, y, W):
    X, y = np.asarray(X, float), np.asarray(y, float)
    h = X @ np.asarray(W, float)
    p = sigmoid(h)
    loss = np.sum(np.logaddexp(0, h) - y * h)
    return float(loss), X.T @ (p - y)


def gradient_descent(grad, w0, lr, n_steps):
    path = np.empty((n_steps + 1, len(w0)))
    path[0] = np.asarray(w0, dtype=float)
    for t in range(n_steps):
        path[t + 1] = path[t] - lr * np.asarray(grad(path[t].copy()))
    return path


def fit_logistic(X, y, lr, n_steps):
    return gradient_descent(lambda W: loss_and_grad(X, y, W)[1],
                            np.zeros(np.shape(X)[1]), lr, n_steps)[-1]


def minibatches(n, batch_size, rng):
    order = rng.permutation(n)
    return [order[s:s + batch_size] for s in range(0, n, batch_size)]


def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):
    rows = [np.asarray(w0, dtype=float)]
    for _ in range(n_epochs):
        for idx in minibatches(n, batch_size, rng):
            rows.append(rows[-1] - lr * np.asarray(grad_batch(rows[-1].copy(), idx)))
    return np.vstack(rows)


def graph_forward(graph, inputs):
    val = {}
    for nd in graph:
        if nd["op"] == "const":
            val[nd["name"]] = nd["value"]
        elif nd["op"] == "input":
            val[nd["name"]] = inputs[nd["name"]]
        else:
            val[nd["name"]] = OPS[nd["op"]][0](*(val[s] for s in nd["inputs"]))
    return val


def graph_backward(graph, values):
    bar = dict.fromkeys((nd["name"] for nd in graph), 0.0)
    bar[graph[-1]["name"]] = 1.0
    for nd in graph[::-1]:
        if nd["inputs"]:
            ds = OPS[nd["op"]][1](*(values[s] for s in nd["inputs"]))
            for s, d in zip(nd["inputs"], ds):
                bar[s] = bar[s] + d * bar[nd["name"]]
    return bar


def heart_design(df, columns):
    cols = [columns] if isinstance(columns, str) else list(columns)
    Z = df[cols].astype(float)
    Z = (Z - Z.mean()) / Z.std(ddof=0)
    X = np.column_stack([np.ones(len(df)), Z.to_numpy()])
    return X, (df["AHD"] == "Yes").to_numpy(dtype=float)


def train_neuron(X, y, lr, n_steps):
    W = fit_logistic(X, y, lr, n_steps)
    return W


def neuron_accuracy(X, y, W):
    return float(np.mean((predict_proba(X, W) > 0.5) == np.asarray(y)))


def perceptron(X, y, n_epochs):
    X, y = np.asarray(X, float), np.asarray(y, float)
    w = np.zeros(X.shape[1])
    for _ in range(n_epochs):
        for xi, yi in zip(X, y):
            w += (yi - float(xi @ w > 0)) * xi
    return w


def init_mlp(layer_sizes, rng):
    return [(rng.normal(0, 1 / np.sqrt(a), size=(a, b)), np.zeros(b))
            for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]


ACTS = {"sigmoid": lambda z: sigmoid(z), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}


def mlp_forward(params, X, activation):
    if activation not in ACTS:
        raise ValueError(activation)
    A, Z = [np.asarray(X, float)], []
    for i, (W, b) in enumerate(params):
        Z.append(A[-1] @ W + b)
        A.append(sigmoid(Z[-1]) if i == len(params) - 1 else ACTS[activation](Z[-1]))
    return A[-1][:, 0], {"activation": activation, "A": A, "Z": Z}


def mlp_backward(params, cache, y):
    A, Z, g = cache["A"], cache["Z"], cache["activation"]
    d = A[-1] - np.reshape(y, (-1, 1))
    out = []
    for i in reversed(range(len(params))):
        out.insert(0, (A[i].T @ d, d.sum(0)))
        if i:
            if g == "relu":
                d = (d @ params[i][0].T) * (Z[i - 1] > 0)
            elif g == "tanh":
                d = (d @ params[i][0].T) * (1 - A[i] ** 2)
            else:
                d = (d @ params[i][0].T) * A[i] * (1 - A[i])
    return out


def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    params = init_mlp(layer_sizes, rng)
    for _ in range(n_epochs):
        for idx in minibatches(len(X), batch_size, rng):
            _, cache = mlp_forward(params, X[idx], activation)
            grads = mlp_backward(params, cache, y[idx])
            params = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]
    return params
