"""hw1's declarations for `grade audit hw1` (secret side: never released to students).

SLIPS are the misconceptions hw1's feedback names, written as edits of the reference;
the audit grades each as a mutant, so the hidden cases must catch every one of them.

EQUIVALENT are the mutants that behave exactly as the reference on every input the
contract allows (../shared/hw1.md), by id, each with its reason.  `grade audit hw1
--show-equivalent` lists them with their diffs.
"""

from grader.audit import Slip

SLIPS = [
    Slip("sigmoid", "naive sigmoid that overflows",
         "s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "s = 1.0 / (1.0 + np.exp(-z))"),
    Slip("bce_loss", "a mean where the loss is a sum", "float(-np.sum(", "float(-np.mean("),
    Slip("bce_loss_from_logits", "the loss through p, not the logits",
         "return float(np.sum((np.maximum(h, 0.0) - y * h) + np.log1p(np.exp(-np.abs(h)))))",
         "p = 1.0 / (1.0 + np.exp(-h))\n"
         "    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))"),
    Slip("dxi4_dxi3", "the slides' xi4 row: the minus of -1/xi3**2 dropped",
         "return -1.0 / np.asarray", "return 1.0 / np.asarray"),
    Slip("loss_b", "the slides' L_B table: (1 - y) xi6 without its minus",
         "return -(1.0 - np.asarray(y, dtype=np.float64))",
         "return (1.0 - np.asarray(y, dtype=np.float64))"),
    Slip("loss_and_grad", "a mean loss", "L = float(np.sum(la + lb))",
         "L = float(np.mean(la + lb))"),
    Slip("loss_and_grad", "a mean gradient",
         "grad = g1 @ np.asarray(dxi1_dW(W, X), dtype=np.float64)",
         "grad = g1 @ np.asarray(dxi1_dW(W, X), dtype=np.float64) / len(y)"),
    Slip("gradient_descent", "the path without its first row w0", "path = [w.copy()]",
         "path = []"),
    Slip("minibatches", "batches in order, no shuffle", "perm = rng.permutation(n)",
         "perm = np.arange(n)"),
    Slip("minibatches", "a fresh generator instead of rng", "perm = rng.permutation(n)",
         "perm = np.random.default_rng(0).permutation(n)"),
    Slip("sgd", "the mean gradient of a batch", "w = w - lr * g", "w = w - lr * g / len(batch)"),
    Slip("graph_backward", "adjoints overwritten, not summed over paths",
         "adjoint[name] += bar_u * float(d)", "adjoint[name] = bar_u * float(d)"),
    Slip("heart_design", "the sample std (ddof = 1)", "Z.std(ddof=0)", "Z.std(ddof=1)"),
    Slip("perceptron", "the ±1-label rule",
         "y_hat = 1.0 if X[i] @ w > 0 else 0.0\n            w = w + (y[i] - y_hat) * X[i]",
         "t = 2.0 * y[i] - 1.0\n            if t * (X[i] @ w) <= 0:\n"
         "                w = w + t * X[i]"),
    Slip("init_mlp", "std 1/n_in instead of 1/sqrt(n_in)", "1.0 / np.sqrt(n_in)", "1.0 / n_in"),
    Slip("mlp_forward", "the hidden activation on the output layer",
         'if l == n_layers or activation == "sigmoid":', 'if activation == "sigmoid":'),
    Slip("mlp_backward", "tanh' = 1 - z**2", "g_prime = 1.0 - A[l - 1] ** 2",
         "g_prime = 1.0 - Z[l - 2] ** 2"),
    Slip("mlp_backward", "sigmoid' = z(1 - z)", "g_prime = A[l - 1] * (1.0 - A[l - 1])",
         "g_prime = Z[l - 2] * (1.0 - Z[l - 2])"),
    Slip("mlp_backward", "relu' = 1 everywhere", "g_prime = (Z[l - 2] > 0).astype(np.float64)",
         "g_prime = np.ones_like(Z[l - 2])"),
]

_ZERO_D = "a 0-d array counts as a float (the contract's comparison rule)"
_ONE_D = "W (or g1, X[i], w) is 1-d: .T is the same array"
_SYMMETRIC = "the substitute is symmetric in its two arguments (a product)"
_OVERWRITTEN = "every entry of np.empty(6) is overwritten before it is read"
_TWO_D = "X is 2-d by the contract: axis/shape index -1 is 1"
_PAIR = "a pair: index -1 is index 1"
_EMPTY = "reached only for an empty graph, which the contract excludes (L is its last node)"
_AS_LIST = "a list is accepted wherever an array is asked for (the contract)"
_BAD_BATCH = "differs only for batch_size < 1, outside the contract"
_SIGNED_ZERO = "-0.0 == 0.0: a zero start is a zero start"
_LAST_STEP = "the extra step at l = 1 computes a delta that is never used"

EQUIVALENT: dict[str, str] = {
    "sigmoid:relational:3999bcad": "at z = 0 both branches give exactly 0.5",
    "sigmoid:relational:d23b3d6b": _ZERO_D,
    "sigmoid:constant:426fb43e": "h is never a list: every input with ndim > 0 is an ndarray",
    "sigmoid:constant:e5f364c6": _ZERO_D,
    "sigmoid:returned-value:7fe5bdb6": _ZERO_D,
    "predict_proba:transpose:c851a906": _ONE_D,
    "bce_loss_from_logits:swapped-arguments:829fd91d": "np.maximum is symmetric",
    "dxi1_dW:arithmetic:f3110cc6": "dividing by ones is multiplying by ones",
    "dloss_a_dxi5:arithmetic:347c058f": "dividing by ones is multiplying by ones",
    "dloss_b_dxi6b:arithmetic:fc27749b": "dividing by ones is multiplying by ones",
    "forward_mode:swapped-arguments:7516efe1": _SYMMETRIC,
    "forward_mode:swapped-arguments:381795af": _SYMMETRIC,
    "forward_mode:unary-sign:5c63d1aa": _OVERWRITTEN,
    "backward_mode:swapped-arguments:f1917d40": _SYMMETRIC,
    "backward_mode:swapped-arguments:3fe96dae": _SYMMETRIC,
    "backward_mode:unary-sign:99e1a9f1": _OVERWRITTEN,
    "loss_and_grad:swapped-arguments:d5b340d0": _SYMMETRIC,
    "loss_and_grad:constant:fb3e7c22": _TWO_D,
    "loss_and_grad:swapped-arguments:5195021d": _SYMMETRIC,
    "loss_and_grad:transpose:feccce14": _ONE_D,
    "gradient_descent:returned-value:1638b2ea": _AS_LIST,
    "fit_logistic:constant:9cec516e": "loss_and_grad returns " + _PAIR,
    "fit_logistic:constant:72ec4a42": _TWO_D,
    "minibatches:constant:228774eb": _BAD_BATCH,
    "minibatches:constant:26eda908": _BAD_BATCH,
    "sgd:returned-value:c13921f3": _AS_LIST,
    "graph_backward:returned-value:2f1842a4": _EMPTY,
    "graph_backward:returned-value:b9bf32c6": _EMPTY,
    "graph_backward:returned-value:07600753": _EMPTY,
    "graph_backward:unary-sign:dbe0a2ed": _EMPTY,
    "graph_backward:constant:dd5e6739": "OPS[op] is (f, df), " + _PAIR,
    "perceptron:unary-sign:987e1877": _SIGNED_ZERO,
    "perceptron:constant:48821f9a": _TWO_D,
    "perceptron:transpose:950e62f9": _ONE_D,
    "perceptron:transpose:7e4ec708": _ONE_D,
    "init_mlp:unary-sign:b80a581e": _SIGNED_ZERO,
    "mlp_forward:swapped-arguments:24de4c81": "np.maximum is symmetric",
    "mlp_forward:constant:9655bbb9": "the output layer has one unit: column -1 is column 0",
    "mlp_backward:constant:09fb166c": "numpy reads any negative size in reshape as 'the rest'",
    "mlp_backward:relational:10c8b295": _LAST_STEP,
    "mlp_backward:constant:5e0fb661": _LAST_STEP,
    "mlp_backward:constant:7d858409": _LAST_STEP,
}
