# Author "partial_graph": parts 1, 6 and 7 done (one with a slip), the rest still the stub's.


def sigmoid(h):
    if isinstance(h, np.ndarray):
        res = np.empty_like(h, dtype=float)
        big = h > 0
        res[big] = 1 / (1 + np.exp(-h[big]))
        small = np.exp(h[~big])
        res[~big] = small / (1 + small)
        return res
    h = float(h)
    return 1 / (1 + np.exp(-h)) if h > 0 else np.exp(h) / (1 + np.exp(h))


def predict_proba(X, W):
    return np.array([sigmoid(float(row @ W)) for row in np.asarray(X, float)])


def bce_loss(y, p):
    y = np.ravel(y).astype(float)
    p = np.ravel(p).astype(float)
    return float(np.sum(-y * np.log(p)) + np.sum(-(1 - y) * np.log(1 - p)))


def bce_loss_from_logits(y, h):
    y = np.ravel(y).astype(float)
    h = np.ravel(h).astype(float)
    sp = np.where(h > 0, h + np.log1p(np.exp(-h)), np.log1p(np.exp(h)))
    return float(np.sum(sp - y * h))


def graph_forward(graph, inputs):
    known = {}
    for entry in graph:
        if entry["op"] in ("input", "const"):
            known[entry["name"]] = entry["value"] if entry["op"] == "const" else inputs[entry["name"]]
            continue
        operands = tuple(known[x] for x in entry["inputs"])
        known[entry["name"]] = OPS[entry["op"]][0](*operands)
    return known


def graph_backward(graph, values):
    g = {entry["name"]: 0.0 for entry in graph}
    g[graph[-1]["name"]] = 1.0
    for entry in graph[::-1]:
        if entry["op"] in ("input", "const"):
            continue
        operands = tuple(values[x] for x in entry["inputs"])
        for x, local in zip(entry["inputs"], OPS[entry["op"]][1](*operands)):
            g[x] = local * g[entry["name"]]
    return g


def heart_design(df, columns):
    columns = [columns] if isinstance(columns, str) else columns
    X = [np.ones(len(df))]
    for name in columns:
        col = df[name].astype(float)
        X.append(((col - col.mean()) / col.std(ddof=0)).values)
    return np.stack(X, axis=1), (df["AHD"] == "Yes").values.astype(float)


def train_neuron(X, y, lr, n_steps):
    return fit_logistic(X, y, lr, n_steps)


def neuron_accuracy(X, y, W):
    guesses = (predict_proba(X, W) > 0.5).astype(float)
    return float((guesses == y).sum() / len(y))


def perceptron(X, y, n_epochs):
    w = np.zeros(np.shape(X)[1])
    for _ in range(n_epochs):
        for i, row in enumerate(np.asarray(X, float)):
            pred = 1 if row @ w > 0 else 0
            if pred != y[i]:
                w = w + (y[i] - pred) * row
    return w
