# Author "loops": explicit Python loops and the math module, one number at a time.
import math


def sigmoid(h):
    if np.ndim(h) == 0 and not isinstance(h, np.ndarray):
        v = float(h)
        if v >= 0:
            return 1.0 / (1.0 + math.exp(-v))
        z = math.exp(v)
        return z / (1.0 + z)
    arr = np.asarray(h, dtype=float)
    out = np.empty(arr.shape)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    for i in range(flat_in.size):
        v = flat_in[i]
        if v >= 0:
            flat_out[i] = 1.0 / (1.0 + math.exp(-v))
        else:
            z = math.exp(v)
            flat_out[i] = z / (1.0 + z)
    return out


def predict_proba(X, W):
    X = np.asarray(X, dtype=float)
    W = np.asarray(W, dtype=float)
    n, p = X.shape
    h = np.zeros(n)
    for i in range(n):
        total = 0.0
        for j in range(p):
            total += X[i, j] * W[j]
        h[i] = total
    return sigmoid(h)


def bce_loss(y, p):
    ys = np.asarray(y, dtype=float).ravel()
    ps = np.asarray(p, dtype=float).ravel()
    total = 0.0
    for yi, pi in zip(ys, ps):
        total -= yi * math.log(pi) + (1 - yi) * math.log(1 - pi)
    return total


def bce_loss_from_logits(y, h):
    total = 0.0
    for yi, hi in zip(np.ravel(y), np.ravel(h)):
        yi = float(yi)
        hi = float(hi)
        total += max(hi, 0.0) - yi * hi + math.log1p(math.exp(-abs(hi)))
    return total


def xi1(W, X):
    return -np.multiply(W, X)


def dxi1_dW(W, X):
    return -np.asarray(X, dtype=float)


def xi2(xi1):
    return np.exp(xi1)


def dxi2_dxi1(xi1):
    return np.exp(xi1)


def xi3(xi2):
    return np.add(1.0, xi2)


def dxi3_dxi2(xi2):
    return np.ones_like(np.asarray(xi2, dtype=float))


def xi4(xi3):
    return np.divide(1.0, xi3)


def dxi4_dxi3(xi3):
    return -np.divide(1.0, np.square(xi3))


def xi5(xi4):
    return np.log(xi4)


def dxi5_dxi4(xi4):
    return np.divide(1.0, xi4)


def loss_a(y, xi5):
    return -np.multiply(y, xi5)


def dloss_a_dxi5(y, xi5):
    return -np.asarray(y, dtype=float) + 0.0 * np.asarray(xi5, dtype=float)


def xi5b(xi4):
    return np.subtract(1.0, xi4)


def dxi5b_dxi4(xi4):
    return -np.ones_like(np.asarray(xi4, dtype=float))


def xi6b(xi5b):
    return np.log(xi5b)


def dxi6b_dxi5b(xi5b):
    return np.divide(1.0, xi5b)


def loss_b(y, xi6b):
    return -np.multiply(np.subtract(1.0, y), xi6b)


def dloss_b_dxi6b(y, xi6b):
    return -(1.0 - np.asarray(y, dtype=float)) + 0.0 * np.asarray(xi6b, dtype=float)


def forward_mode(X, y, W):
    value = np.zeros(6)
    partial = np.zeros(6)
    dW = np.zeros(6)
    value[0] = xi1(W, X)
    partial[0] = dxi1_dW(W, X)
    chain = [(xi2, dxi2_dxi1), (xi3, dxi3_dxi2), (xi4, dxi4_dxi3), (xi5, dxi5_dxi4)]
    for k in range(4):
        f, df = chain[k]
        value[k + 1] = f(value[k])
        partial[k + 1] = df(value[k])
    value[5] = loss_a(y, value[4])
    partial[5] = dloss_a_dxi5(y, value[4])
    running = 1.0
    for k in range(6):
        running = running * partial[k]
        dW[k] = running
    return {"value": value, "partial": partial, "dW": dW}


def backward_mode(X, y, W):
    forward = forward_mode(X, y, W)
    value = forward["value"]
    partial = forward["partial"]
    adjoint = np.zeros(6)
    adjoint[5] = 1.0
    for k in range(4, -1, -1):
        adjoint[k] = adjoint[k + 1] * partial[k + 1]
    return {"value": value, "partial": partial, "adjoint": adjoint,
            "dW": float(adjoint[0] * partial[0])}


def loss_and_grad(X, y, W):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.asarray(W, dtype=float)
    n, p = X.shape
    L = 0.0
    grad = np.zeros(p)
    for i in range(n):
        h = 0.0
        for j in range(p):
            h += X[i, j] * W[j]
        pr = sigmoid(h)
        L += -(y[i] * math.log(pr) + (1 - y[i]) * math.log(1 - pr))
        for j in range(p):
            grad[j] += (pr - y[i]) * X[i, j]
    return L, grad


def gradient_descent(grad, w0, lr, n_steps):
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for step in range(n_steps):
        g = np.asarray(grad(w.copy()), dtype=float)
        w = w - lr * g
        path.append(w.copy())
    return np.array(path)


def fit_logistic(X, y, lr, n_steps):
    start = np.zeros(np.shape(X)[1])

    def gradient(w):
        return loss_and_grad(X, y, w)[1]

    return gradient_descent(gradient, start, lr, n_steps)[-1]


def minibatches(n, batch_size, rng):
    perm = rng.permutation(n)
    batches = []
    start = 0
    while start < n:
        batches.append(perm[start:start + batch_size])
        start += batch_size
    return batches


def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for epoch in range(n_epochs):
        for b in minibatches(n, batch_size, rng):
            w = w - lr * np.asarray(grad_batch(w.copy(), b), dtype=float)
            path.append(w.copy())
    return np.array(path)


def graph_forward(graph, inputs):
    values = {}
    for node in graph:
        name = node["name"]
        op = node["op"]
        if op == "const":
            values[name] = float(node["value"])
        elif op == "input":
            values[name] = float(inputs[name])
        else:
            args = []
            for i in node["inputs"]:
                args.append(values[i])
            values[name] = OPS[op][0](*args)
    return values


def graph_backward(graph, values):
    grads = {}
    for node in graph:
        grads[node["name"]] = 0.0
    grads[graph[-1]["name"]] = 1.0
    for node in reversed(graph):
        if node["op"] in ("input", "const"):
            continue
        args = []
        for i in node["inputs"]:
            args.append(values[i])
        partials = OPS[node["op"]][1](*args)
        for inp, d in zip(node["inputs"], partials):
            grads[inp] += grads[node["name"]] * d
    return grads


def heart_design(df, columns):
    if isinstance(columns, str):
        columns = [columns]
    n = len(df)
    X = np.ones((n, len(columns) + 1))
    for c, col in enumerate(columns):
        vals = df[col].to_numpy(dtype=float)
        mean = np.nanmean(vals)
        std = np.sqrt(np.nanmean((vals - mean) ** 2))
        X[:, c + 1] = (vals - mean) / std
    labels = []
    for v in df["AHD"]:
        labels.append(1.0 if v == "Yes" else 0.0)
    return X, np.array(labels)


def train_neuron(X, y, lr, n_steps):
    return fit_logistic(X, y, lr, n_steps)


def neuron_accuracy(X, y, W):
    p = predict_proba(X, W)
    correct = 0
    for pi, yi in zip(p, y):
        guess = 1.0 if pi > 0.5 else 0.0
        if guess == yi:
            correct += 1
    return correct / len(y)


def perceptron(X, y, n_epochs):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    for epoch in range(n_epochs):
        for i in range(X.shape[0]):
            y_hat = 1.0 if X[i] @ w > 0 else 0.0
            w = w + (y[i] - y_hat) * X[i]
    return w


def init_mlp(layer_sizes, rng):
    params = []
    for l in range(1, len(layer_sizes)):
        n_in = layer_sizes[l - 1]
        n_out = layer_sizes[l]
        W = rng.normal(0, 1 / math.sqrt(n_in), size=(n_in, n_out))
        b = np.zeros(n_out)
        params.append((W, b))
    return params


def mlp_forward(params, X, activation):
    if activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError("unknown activation " + str(activation))
    A = np.asarray(X, dtype=float)
    As = [A]
    Zs = []
    for l, (W, b) in enumerate(params):
        Z = A @ W + b
        if l == len(params) - 1 or activation == "sigmoid":
            A = sigmoid(Z)
        elif activation == "tanh":
            A = np.tanh(Z)
        else:
            A = np.maximum(Z, 0.0)
        As.append(A)
        Zs.append(Z)
    return A[:, 0], {"activation": activation, "A": As, "Z": Zs}


def mlp_backward(params, cache, y):
    As = cache["A"]
    Zs = cache["Z"]
    act = cache["activation"]
    L = len(params)
    grads = [None] * L
    delta = As[-1] - np.asarray(y, dtype=float).reshape(-1, 1)
    for l in range(L - 1, -1, -1):
        W, b = params[l]
        grads[l] = (As[l].T @ delta, delta.sum(axis=0))
        if l > 0:
            back = delta @ W.T
            A_prev = As[l]
            if act == "sigmoid":
                deriv = A_prev * (1 - A_prev)
            elif act == "tanh":
                deriv = 1 - A_prev ** 2
            else:
                deriv = (Zs[l - 1] > 0).astype(float)
            delta = back * deriv
    return grads


def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    params = init_mlp(layer_sizes, rng)
    for epoch in range(n_epochs):
        for batch in minibatches(len(X), batch_size, rng):
            p, cache = mlp_forward(params, X[batch], activation)
            grads = mlp_backward(params, cache, y[batch])
            new = []
            for (W, b), (dW, db) in zip(params, grads):
                new.append((W - lr * dW, b - lr * db))
            params = new
    return params
