# %% [markdown]
# # hw1 — Perceptron and Back Propagation
#
# This assignment rebuilds, one small function at a time, what the first
# lecture did on the board: logistic regression seen as a single neuron, its
# loss, the chain rule run forward and backward, gradient descent and its
# stochastic cousin, back-propagation on an arbitrary computational graph,
# the perceptron, and finally a multi-layer perceptron trained with
# mini-batches.
#
# **What you do.** Every graded function below has a docstring that says what
# it takes, what it returns and which formula it implements; its body raises
# `NotImplementedError` until you replace that line with your code. Use numpy
# (and pandas for the Heart data). Functions may call each other: when one of
# them is graded, the grader runs the *reference* version of the others it
# calls, so a mistake is only ever charged once, where it is.
#
# **How to check your work.** In this notebook, run the `check("item")` cell
# that follows each item's functions: it grades the cells you have run so far
# on that item's public cases and prints the points, what to fix and the
# first failing case. To grade the whole notebook, open a terminal in the
# course folder and run
#
#     grade hw1 --submission exercises/hw1.ipynb
#
# (plain `grade hw1` grades `exercises/hw1.py`, if you work in the `.py` file
# instead). Run either as often as you like; the public cases (including the
# lecture's worked example) show their inputs and the expected values.
#
# Two conventions hold everywhere: the loss is a **sum** over examples (never a
# mean), and a learning rate `lr` multiplies the gradient of that summed loss.

# %%
from pathlib import Path

import numpy as np
import pandas as pd

# %% [markdown]
# ## Part 1 — logistic regression, reviewed
#
# A single neuron takes the inputs of one example, a row $x$ of the design
# matrix $X$ (its first entry is 1, so that the first weight plays the role of
# an intercept), forms the weighted sum $h = x \cdot W$ and squashes it with
# the **sigmoid** $\sigma(h) = 1/(1 + e^{-h})$. The output $p = \sigma(h)$ is
# read as the probability that the label $y$ is 1. For all rows at once:
# $p = \sigma(XW)$, one probability per row.
#
# The loss of one example is the **binary cross-entropy**
# $-\,[\,y \log p + (1-y)\log(1-p)\,]$: small when the neuron gives a high
# probability to what actually happened, large when it was confidently wrong.
# The loss of a data set is the sum of these.
#
# Computers only hold about 16 significant digits and numbers up to about
# $10^{308}$. Written naively, $\sigma(h)$ overflows for $h \approx -710$
# ($e^{710}$ is too large), and $\log(1 - \sigma(h))$ becomes $\log 0$ long
# before that. Two rewrites fix this:
#
# - only ever exponentiate a non-positive number: for $h \ge 0$ use
#   $1/(1+e^{-h})$, for $h < 0$ the equal $e^{h}/(1+e^{h})$;
# - write the loss in terms of $h$ directly. Since $\log \sigma(h) =
#   -\log(1+e^{-h})$ and $\log(1-\sigma(h)) = -\log(1+e^{h})$, one example's
#   loss is $y \log(1+e^{-h}) + (1-y)\log(1+e^{h})$, and
#   $\log(1+e^{t})$ (the "softplus") can be computed safely as
#   `np.logaddexp(0, t)` or $\max(t, 0) + \log(1 + e^{-|t|})$.


# %%
def sigmoid(h):
    """The logistic function sigma(h) = 1 / (1 + exp(-h)), elementwise.

    Args:
        h: a Python int or float, a numpy scalar, or an ndarray of any shape.

    Returns:
        A Python float when `h` is a scalar; otherwise a float64 ndarray of
        the same shape as `h` (a 0-d ndarray gives a 0-d ndarray).

    Must be finite and correct for |h| up to 1e4 without any RuntimeWarning
    (no overflow in exp): only exponentiate -|h|.
    """
    # BEGIN SOLUTION
    z = np.asarray(h, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows; may underflow to 0 quietly
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if isinstance(h, np.ndarray) or np.ndim(h) > 0:
        return s
    return float(s)
    # END SOLUTION


# %%
def predict_proba(X, W):
    """The neuron's output p = sigmoid(X @ W), one probability per row.

    Args:
        X: design matrix, shape (n, p).
        W: weights, shape (p,).

    Returns:
        float64 array of shape (n,). Calls `sigmoid`.
    """
    # BEGIN SOLUTION
    h = np.asarray(X, dtype=np.float64) @ np.asarray(W, dtype=np.float64)
    return sigmoid(h)
    # END SOLUTION


# %%
def bce_loss(y, p):
    """Summed binary cross-entropy -sum(y*log(p) + (1-y)*log(1-p)).

    Args:
        y: labels 0.0 / 1.0, any shape.
        p: predicted probabilities, same shape as `y`, strictly inside (0, 1).

    Returns:
        One Python float: the sum over *all* entries, whatever the shape.

    Choice: no clipping of `p` (the hidden p lie in [1e-6, 1 - 1e-6]);
    log(1 - p) is computed as log1p(-p), the same number, more accurately.
    """
    # BEGIN SOLUTION
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)))
    # END SOLUTION


# %%
def bce_loss_from_logits(y, h):
    """The same summed loss written in terms of h, where p = sigmoid(h).

    One example's loss is y*softplus(-h) + (1-y)*softplus(h) with
    softplus(t) = log(1 + exp(t)); since softplus(-h) = softplus(h) - h this
    is softplus(h) - y*h, and softplus(h) = max(h, 0) + log1p(exp(-|h|)).
    Computed as (max(h, 0) - y*h) + log1p(exp(-|h|)): each example's loss
    then keeps its relative accuracy even when it is tiny.

    Args:
        y: labels 0.0 / 1.0, any shape.
        h: logits, same shape as `y`.

    Returns:
        One Python float, finite and accurate for |h| up to 1e4.
    """
    # BEGIN SOLUTION
    y = np.asarray(y, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    # (max(h, 0) - y*h) first: exact for y in {0, 1}, so no digits are lost
    # when the small log1p term is added
    return float(np.sum((np.maximum(h, 0.0) - y * h) + np.log1p(np.exp(-np.abs(h)))))
    # END SOLUTION


# %% [markdown]
# ## Part 2 — the elementary functions and their derivatives
#
# The chain rule is easiest to apply, by hand or by a program, when a
# complicated function is cut into a **chain of elementary steps**, each of
# which we can differentiate at a glance. For one example $(X, y)$ with a
# single weight $W$, the loss $L = L_A + L_B$ with
# $L_A = -y \log \sigma(WX)$ and $L_B = -(1-y) \log(1 - \sigma(WX))$ is cut
# like this. Each row names a new variable $\xi$ ("xi"), computed from the
# row before it, and the derivative of that step with respect to its own
# input:
#
# | row | value | derivative of the step |
# |---|---|---|
# | $\xi_1$ | $-W X$ | $\partial \xi_1/\partial W = -X$ |
# | $\xi_2$ | $e^{\xi_1}$ | $\partial \xi_2/\partial \xi_1 = e^{\xi_1}$ |
# | $\xi_3$ | $1 + \xi_2$ | $\partial \xi_3/\partial \xi_2 = 1$ |
# | $\xi_4$ | $1/\xi_3$ (this is $p$) | $\partial \xi_4/\partial \xi_3 = -1/\xi_3^2$ |
# | $\xi_5$ | $\log \xi_4$ | $\partial \xi_5/\partial \xi_4 = 1/\xi_4$ |
# | $L_A$ | $-y\,\xi_5$ | $\partial L_A/\partial \xi_5 = -y$ |
#
# The second part of the loss branches off at $\xi_4$:
#
# | row | value | derivative of the step |
# |---|---|---|
# | $\xi_5^B$ | $1 - \xi_4$ | $\partial \xi_5^B/\partial \xi_4 = -1$ |
# | $\xi_6^B$ | $\log \xi_5^B$ | $\partial \xi_6^B/\partial \xi_5^B = 1/\xi_5^B$ |
# | $L_B$ | $-(1-y)\,\xi_6^B$ | $\partial L_B/\partial \xi_6^B = -(1-y)$ |
#
# Watch the signs: $-1/\xi_3^2$ and the minus in front of $(1-y)$ are easy to
# drop, and each dropped sign flips the final derivative.
#
# By the chain rule the derivative of $L_A$ with respect to $W$ is the
# product of the step derivatives along the chain:
# $\frac{dL_A}{dW} = \frac{\partial \xi_1}{\partial W}\cdot
# \frac{\partial \xi_2}{\partial \xi_1}\cdots\frac{\partial L_A}{\partial \xi_5}$.
#
# Below, every step is a pair of functions: the value, and its derivative with
# respect to the previous variable. They work elementwise, on plain numbers
# and on numpy arrays of equal shape. For a whole data set the chain starts
# from $\xi_1 = -XW$ (one value per example) and every later step acts on each
# example separately.


# %%
def xi1(W, X):
    """Step xi1 = -W * X (elementwise).

    Args: W, X: numbers or arrays of equal shape. Returns: the same shape
    (a float for scalars).
    """
    # BEGIN SOLUTION
    return -np.asarray(W, dtype=np.float64) * np.asarray(X, dtype=np.float64)
    # END SOLUTION


def dxi1_dW(W, X):
    """Derivative of xi1 with respect to W: d(-W*X)/dW = -X.

    Returns -X, broadcast to the shape of W * X (a float for scalars).
    """
    # BEGIN SOLUTION
    return -np.asarray(X, dtype=np.float64) * np.ones(np.shape(W))
    # END SOLUTION


# %%
def xi2(xi1):
    """Step xi2 = exp(xi1) (elementwise)."""
    # BEGIN SOLUTION
    return np.exp(np.asarray(xi1, dtype=np.float64))
    # END SOLUTION


def dxi2_dxi1(xi1):
    """Derivative of xi2 with respect to xi1: exp(xi1)."""
    # BEGIN SOLUTION
    return np.exp(np.asarray(xi1, dtype=np.float64))
    # END SOLUTION


# %%
def xi3(xi2):
    """Step xi3 = 1 + xi2 (elementwise)."""
    # BEGIN SOLUTION
    return 1.0 + np.asarray(xi2, dtype=np.float64)
    # END SOLUTION


def dxi3_dxi2(xi2):
    """Derivative of xi3 with respect to xi2: 1 everywhere.

    Returned with the shape of `xi2` (a float for a scalar); the grader also
    accepts the plain number 1.
    """
    # BEGIN SOLUTION
    return np.ones(np.shape(xi2))[()]
    # END SOLUTION


# %%
def xi4(xi3):
    """Step xi4 = 1 / xi3 (elementwise); xi4 is the probability p."""
    # BEGIN SOLUTION
    return 1.0 / np.asarray(xi3, dtype=np.float64)
    # END SOLUTION


def dxi4_dxi3(xi3):
    """Derivative of xi4 with respect to xi3: -1 / xi3**2 (mind the minus)."""
    # BEGIN SOLUTION
    return -1.0 / np.asarray(xi3, dtype=np.float64) ** 2
    # END SOLUTION


# %%
def xi5(xi4):
    """Step xi5 = log(xi4) (elementwise, natural log)."""
    # BEGIN SOLUTION
    return np.log(np.asarray(xi4, dtype=np.float64))
    # END SOLUTION


def dxi5_dxi4(xi4):
    """Derivative of xi5 with respect to xi4: 1 / xi4."""
    # BEGIN SOLUTION
    return 1.0 / np.asarray(xi4, dtype=np.float64)
    # END SOLUTION


# %%
def loss_a(y, xi5):
    """The first part of the loss: L_A = -y * xi5 (elementwise)."""
    # BEGIN SOLUTION
    return -np.asarray(y, dtype=np.float64) * np.asarray(xi5, dtype=np.float64)
    # END SOLUTION


def dloss_a_dxi5(y, xi5):
    """Derivative of L_A with respect to xi5: -y.

    Returned with the shape of y * xi5 (a float for scalars).
    """
    # BEGIN SOLUTION
    return -np.asarray(y, dtype=np.float64) * np.ones(np.shape(xi5))
    # END SOLUTION


# %%
def xi5b(xi4):
    """Branch B, step xi5b = 1 - xi4 (elementwise): 1 - p."""
    # BEGIN SOLUTION
    return 1.0 - np.asarray(xi4, dtype=np.float64)
    # END SOLUTION


def dxi5b_dxi4(xi4):
    """Derivative of xi5b with respect to xi4: -1 everywhere.

    Returned with the shape of `xi4` (a float for a scalar); the grader also
    accepts the plain number -1.
    """
    # BEGIN SOLUTION
    return -np.ones(np.shape(xi4))[()]
    # END SOLUTION


# %%
def xi6b(xi5b):
    """Branch B, step xi6b = log(xi5b) (elementwise): log(1 - p)."""
    # BEGIN SOLUTION
    return np.log(np.asarray(xi5b, dtype=np.float64))
    # END SOLUTION


def dxi6b_dxi5b(xi5b):
    """Derivative of xi6b with respect to xi5b: 1 / xi5b."""
    # BEGIN SOLUTION
    return 1.0 / np.asarray(xi5b, dtype=np.float64)
    # END SOLUTION


# %%
def loss_b(y, xi6b):
    """The second part of the loss: L_B = -(1 - y) * xi6b (elementwise).

    Note the minus sign: the lecture's L_B table prints (1 - y) * xi6, which
    is wrong.
    """
    # BEGIN SOLUTION
    return -(1.0 - np.asarray(y, dtype=np.float64)) * np.asarray(xi6b, dtype=np.float64)
    # END SOLUTION


def dloss_b_dxi6b(y, xi6b):
    """Derivative of L_B with respect to xi6b: -(1 - y).

    Returned with the shape of y * xi6b (a float for scalars).
    """
    # BEGIN SOLUTION
    return -(1.0 - np.asarray(y, dtype=np.float64)) * np.ones(np.shape(xi6b))
    # END SOLUTION


# %% [markdown]
# ## Part 3 — the chain rule, forward and backward
#
# The product of the step derivatives can be multiplied in two orders.
#
# **Forward mode** starts at the input. Alongside each value $\xi_k$ it
# carries $d\xi_k/dW$, the derivative of that row with respect to the weight:
# $d\xi_1/dW = -X$, then $d\xi_{k}/dW = \frac{\partial \xi_k}{\partial
# \xi_{k-1}} \cdot d\xi_{k-1}/dW$. The last row gives $dL_A/dW$. One forward
# sweep gives the derivative of *every* row with respect to *one* input.
#
# **Backward mode** (reverse accumulation) first computes all values, then
# walks back from the loss. It carries the **adjoint** $\bar\xi_k =
# dL_A/d\xi_k$, the derivative of the *loss* with respect to row $k$: the
# loss row has adjoint 1, and $\bar\xi_{k} = \bar\xi_{k+1} \cdot
# \frac{\partial \xi_{k+1}}{\partial \xi_k}$. At the end,
# $dL_A/dW = \bar\xi_1 \cdot \partial\xi_1/\partial W$. One backward sweep
# gives the derivative of *one* output (the loss) with respect to *every*
# row and every input. A network has millions of weights and one loss, which
# is why networks are trained with backward mode: that is back-propagation.
#
# **The worked example** of the lecture: $X = 3$, $y = 1$, $W = 3$. The
# columns are the value of each row, the step's partial derivative, and the
# forward-mode running product $d\xi_k/dW$:
#
# | row | value | partial | running product $d\xi_k/dW$ |
# |---|---|---|---|
# | $\xi_1$ | $-9$ | $\partial\xi_1/\partial W = -X = -3$ | $-3$ |
# | $\xi_2$ | $e^{-9} \approx 1.2340980\times10^{-4}$ | $e^{-9} \approx 1.2340980\times10^{-4}$ | $-3.7022941\times10^{-4}$ |
# | $\xi_3$ | $1+e^{-9} \approx 1.0001234098$ | $1$ | $-3.7022941\times10^{-4}$ |
# | $\xi_4$ | $1/(1+e^{-9}) \approx 0.9998766054$ | $-1/\xi_3^2 \approx -0.9997532261$ | $+3.7013805\times10^{-4}$ |
# | $\xi_5$ | $\log\xi_4 \approx -1.2340219\times10^{-4}$ | $1/\xi_4 \approx 1.0001234098$ | $+3.7018373\times10^{-4}$ |
# | $L_A$ | $-y\,\xi_5 \approx 1.2340219\times10^{-4}$ | $-y = -1$ | $-3.7018373\times10^{-4}$ |
#
# So $dL_A/dW = -3e^{-9}/(1+e^{-9}) = \mathbf{-0.000370183727958695}$.
# It is negative, as it must be: $y = 1$ and a larger $W$ pushes $p$ closer
# to 1, which lowers the loss. Here $L_B = 0$ because $1 - y = 0$, so this is
# also $dL/dW$.
#
# **A slip in the slides.** The lecture's slides print $+0.00037018372$. Two
# signs went missing there: their $\xi_4$ row drops the minus of
# $-1/\xi_3^2$ (which flips the product), and their $L_B$ table writes
# $L_B = (1-y)\xi_6$ where it is $-(1-y)\xi_6$. The values above, and the
# grader, use the correct signs.
#
# Backward mode on the same example: the adjoints are, from the bottom,
# $\bar L_A = 1$, $\bar\xi_5 = -1$, $\bar\xi_4 = -1.0001234$,
# $\bar\xi_3 \approx 0.99987661$, $\bar\xi_2 \approx 0.99987661$,
# $\bar\xi_1 \approx 1.2339458\times10^{-4}$, and
# $dL_A/dW = \bar\xi_1 \cdot (-3)$, the same number.
#
# For a data set, the loss is $L = \sum_i (L_{A,i} + L_{B,i})$ and
# $\xi_{1,i} = -X_i \cdot W$. The backward sweep is the same per example; the
# two branches meet at $\xi_4$, so there the adjoints of both branches are
# **added**: $\bar\xi_4 = \bar\xi_5 \cdot \frac{1}{\xi_4} + \bar\xi_5^B \cdot
# (-1)$. Finally $\partial \xi_{1,i}/\partial W = -X_i$, so
# $\nabla_W L = \sum_i \bar\xi_{1,i}\,(-X_i)$.
#
# Multiplied out, $\bar\xi_{1} = \big(-\tfrac{y}{p} + \tfrac{1-y}{1-p}\big)
# \cdot \big(-\tfrac{1}{\xi_3^2}\big) \cdot e^{\xi_1}$ simplifies to
# $y - p$, so $\nabla_W L = X^\top(p - y)$: the familiar gradient of
# logistic regression. The simplified form is also the better one to compute:
# when $p$ is close to 1 the number $1 - p$ has lost most of its digits
# (at $XW = 20$, $1 - p \approx 2\times10^{-9}$ is known to only about 8
# digits), and dividing by it carries that error into the gradient.


# %%
def forward_mode(X, y, W):
    """Forward-mode derivative of L_A along the chain xi1 .. xi5, L_A.

    Args:
        X, y, W: Python floats (one example, one weight).

    Returns:
        dict of three float64 arrays of length 6 over the rows
        [xi1, xi2, xi3, xi4, xi5, L_A]:
        - "value": the value of each row;
        - "partial": [dxi1/dW, dxi2/dxi1, dxi3/dxi2, dxi4/dxi3, dxi5/dxi4,
          dL_A/dxi5], each step's derivative at the current values;
        - "dW": running products, dW[k] = partial[0] * ... * partial[k], the
          derivative of row k with respect to W; dW[-1] is dL_A/dW.

    Uses the Part 2 functions. At X = 3, y = 1, W = 3,
    dW[-1] = -3 exp(-9) / (1 + exp(-9)) = -0.000370183727958695 (the slides
    print +0.00037018372: a sign slip, see above).
    """
    # BEGIN SOLUTION
    X, y, W = float(X), float(y), float(W)
    v1 = xi1(W, X)
    v2 = xi2(v1)
    v3 = xi3(v2)
    v4 = xi4(v3)
    v5 = xi5(v4)
    la = loss_a(y, v5)
    value = np.array([float(v) for v in (v1, v2, v3, v4, v5, la)])
    partial = np.array(
        [
            float(dxi1_dW(W, X)),
            float(dxi2_dxi1(v1)),
            float(dxi3_dxi2(v2)),
            float(dxi4_dxi3(v3)),
            float(dxi5_dxi4(v4)),
            float(dloss_a_dxi5(y, v5)),
        ]
    )
    dW = np.empty(6)
    running = 1.0
    for k in range(6):
        running = running * partial[k]
        dW[k] = running
    return {"value": value, "partial": partial, "dW": dW}
    # END SOLUTION


# %%
def backward_mode(X, y, W):
    """Backward-mode (reverse accumulation) derivative of L_A along the chain.

    Args:
        X, y, W: Python floats (one example, one weight).

    Returns:
        dict with
        - "value", "partial": float64 arrays of length 6 exactly as in
          `forward_mode` (rows xi1, xi2, xi3, xi4, xi5, L_A);
        - "adjoint": float64 array of length 6, adjoint[k] = dL_A/d(row k)
          = partial[k+1] * ... * partial[5], accumulated from the loss
          backward, so adjoint[5] = 1;
        - "dW": adjoint[0] * partial[0] = dL_A/dW, a Python float.

    Uses the Part 2 functions (the forward sweep is repeated here rather than
    taken from `forward_mode`, which is graded on its own).
    """
    # BEGIN SOLUTION
    X, y, W = float(X), float(y), float(W)
    v1 = xi1(W, X)
    v2 = xi2(v1)
    v3 = xi3(v2)
    v4 = xi4(v3)
    v5 = xi5(v4)
    la = loss_a(y, v5)
    value = np.array([float(v) for v in (v1, v2, v3, v4, v5, la)])
    partial = np.array(
        [
            float(dxi1_dW(W, X)),
            float(dxi2_dxi1(v1)),
            float(dxi3_dxi2(v2)),
            float(dxi4_dxi3(v3)),
            float(dxi5_dxi4(v4)),
            float(dloss_a_dxi5(y, v5)),
        ]
    )
    adjoint = np.empty(6)
    adjoint[5] = 1.0
    for k in range(4, -1, -1):
        adjoint[k] = adjoint[k + 1] * partial[k + 1]
    return {
        "value": value,
        "partial": partial,
        "adjoint": adjoint,
        "dW": float(adjoint[0] * partial[0]),
    }
    # END SOLUTION


# %%
def loss_and_grad(X, y, W):
    """The summed loss L = sum_i (L_A,i + L_B,i) and its gradient, by the chain.

    Forward: xi1 = -X @ W (one value per example: the row sums of
    xi1(W, X)), then xi2, xi3, xi4 (= p), and the two branches xi5 -> L_A and
    xi5b -> xi6b -> L_B, all with the Part 2 functions. Backward: each
    example's loss has adjoint 1; the adjoints of the two branches add at xi4,
    and multiplying back through xi4, xi3, xi2 gives the adjoint of xi1,
    which simplifies to y - p. The gradient is
    sum_i adjoint(xi1_i) * dxi1_dW(W, X_i) = sum_i (y_i - p_i) * (-X_i),
    that is X.T @ (p - y).

    Args:
        X: design matrix (n, p); y: labels (n,) of 0.0 / 1.0; W: weights (p,).

    Returns:
        (L, grad): L a Python float, grad a float64 array of shape (p,).

    Choice: the adjoint of xi1 is taken in its simplified form y - p with
    p = sigmoid(X @ W), not multiplied out step by step. Multiplied out, the
    L_B branch divides by xi5b = 1 - p, which has lost most of its digits
    when p is near 1: at |X_i @ W| = 20 the gradient would be off by up to
    about 1e-7. The simplified form is accurate for every logit. The loss
    value follows the chain (accurate to about 1e-9 relative for
    |X_i @ W| <= 20, the hidden range); past about 36 the chain's
    log(1 - p) is log(0), so use `bce_loss_from_logits` for such logits.
    """
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    # forward sweep, one value per example
    v1 = np.sum(xi1(W, X), axis=1)  # = -X @ W
    v2 = xi2(v1)
    v3 = xi3(v2)
    v4 = xi4(v3)  # p
    la = loss_a(y, xi5(v4))
    lb = loss_b(y, xi6b(xi5b(v4)))
    L = float(np.sum(la + lb))
    # backward sweep: the adjoint of xi1 is
    #   (-y/p + (1-y)/(1-p)) * (-1/xi3**2) * exp(xi1) = y - p,
    # taken in that simplified form (accurate even when 1 - p underflows)
    g1 = y - np.asarray(sigmoid(-v1), dtype=np.float64)
    grad = g1 @ np.asarray(dxi1_dW(W, X), dtype=np.float64)
    return L, grad
    # END SOLUTION


# %% [markdown]
# ## Part 4 — gradient descent
#
# The gradient $\nabla L(w)$ points in the direction in which the loss grows
# fastest, so a small step against it lowers the loss. **Gradient descent**
# repeats that step:
#
# $$w_{t+1} = w_t - \text{lr}\cdot \nabla L(w_t).$$
#
# The learning rate `lr` sets the step size: too small and progress is slow,
# too large and the iterates overshoot and can diverge. Because our loss is a
# *sum* over the $n$ examples, its gradient grows with $n$; a good `lr` is
# therefore smaller for a larger data set (with a mean loss it would not be).
#
# Recording every iterate, the **path** $w_0, w_1, \dots, w_T$, lets you see
# how the descent went. Logistic regression's loss is convex, so on data that
# are not perfectly separable gradient descent with a small enough `lr`
# converges to the maximum-likelihood weights.


# %%
def gradient_descent(grad, w0, lr, n_steps):
    """The path of gradient descent w <- w - lr * grad(w).

    Args:
        grad: callable taking a float64 array of shape (p,) and returning the
            gradient, shape (p,). It may keep the array it is given.
        w0: starting point, length p (a list or an int array is fine).
        lr: learning rate (float).
        n_steps: number of steps (int >= 0).

    Returns:
        float64 array of shape (n_steps + 1, p): row 0 is w0, row t the
        iterate after t steps; the rows are independent copies.

    Choice: `grad` receives a fresh copy of the current w at every step; a
    scalar w0 is taken as a vector of length 1.
    """
    # BEGIN SOLUTION
    w = np.atleast_1d(np.array(w0, dtype=np.float64))
    path = [w.copy()]
    for _ in range(n_steps):
        g = np.asarray(grad(w.copy()), dtype=np.float64)
        w = w - lr * g
        path.append(w.copy())
    return np.array(path)
    # END SOLUTION


# %%
def fit_logistic(X, y, lr, n_steps):
    """Logistic regression fitted by gradient descent on the summed loss.

    Starts from W = 0 and takes `n_steps` steps of
    W <- W - lr * grad L(W), the gradient coming from `loss_and_grad`, the
    steps from `gradient_descent`.

    Args:
        X: design matrix (n, p); y: labels (n,); lr: float; n_steps: int.

    Returns:
        The final W, float64 array of shape (p,).
    """
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    path = gradient_descent(
        lambda W: loss_and_grad(X, y, W)[1], np.zeros(X.shape[1]), lr, n_steps
    )
    return np.array(np.asarray(path, dtype=np.float64)[-1])
    # END SOLUTION


# %% [markdown]
# ## Part 5 — stochastic and mini-batch gradient descent
#
# A full gradient touches every example, so each step of gradient descent
# costs a pass over the whole data set. **Stochastic gradient descent (SGD)**
# takes a step after looking at only a few examples: it shuffles the data,
# cuts the shuffled order into **mini-batches** of `batch_size` examples, and
# for each batch $b$ in turn steps
#
# $$w \leftarrow w - \text{lr}\cdot \nabla \sum_{i\in b} L_i(w).$$
#
# One pass over all the batches is an **epoch**; every epoch reshuffles. The
# gradient of a batch is a noisy estimate of the full one, but it is cheap,
# and many cheap noisy steps usually beat few exact ones. `batch_size = 1` is
# SGD in its original form; `batch_size = n` is plain gradient descent (one
# step per epoch). As everywhere in this course, the batch loss is a sum, not
# a mean, and `lr` multiplies that summed gradient.
#
# When `n` is not a multiple of `batch_size`, the last batch of an epoch is
# shorter; it is still used. An epoch thus has $\lceil n/\text{batch\_size}
# \rceil$ steps.
#
# Randomness comes from a `numpy.random.Generator` passed in as `rng`. The
# shuffle is exactly one call `perm = rng.permutation(n)` per epoch, and the
# batches are consecutive slices of `perm`. Drawing exactly that and nothing
# else keeps a run reproducible: the same seed gives the same batches.


# %%
def minibatches(n, batch_size, rng):
    """Shuffle 0..n-1 once and cut the order into consecutive batches.

    Args:
        n: number of examples (int >= 0).
        batch_size: int >= 1.
        rng: a numpy.random.Generator; exactly one draw is made from it,
            perm = rng.permutation(n).

    Returns:
        A list of integer index arrays perm[0:bs], perm[bs:2bs], ...; each
        has exactly `batch_size` indices except possibly the last (shorter
        when n is not a multiple of batch_size). n = 0 gives [].

    Choice: batch_size < 1 raises ValueError (before drawing).
    """
    # BEGIN SOLUTION
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    perm = rng.permutation(n)
    return [perm[start:start + batch_size] for start in range(0, n, batch_size)]
    # END SOLUTION


# %%
def sgd(grad_batch, w0, n, lr, batch_size, n_epochs, rng):
    """Mini-batch stochastic gradient descent; returns the path.

    Each epoch calls `minibatches(n, batch_size, rng)` once, then for each
    batch b in order steps w <- w - lr * grad_batch(w, b).

    Args:
        grad_batch: callable (w, b) -> gradient, shape (p,), of the loss
            summed over the examples in batch b. It may keep the w it gets.
        w0: starting point, length p (list or array).
        n: number of examples; lr: float; batch_size: int; n_epochs: int;
        rng: numpy.random.Generator, passed on to `minibatches`.

    Returns:
        float64 array of n_epochs * ceil(n / batch_size) + 1 rows (w0, then
        the iterate after every batch step), independent copies.

    Choice: `grad_batch` receives a fresh copy of w and the batch exactly as
    `minibatches` returned it.
    """
    # BEGIN SOLUTION
    w = np.atleast_1d(np.array(w0, dtype=np.float64))
    path = [w.copy()]
    for _ in range(n_epochs):
        for batch in minibatches(n, batch_size, rng):
            g = np.asarray(grad_batch(w.copy(), batch), dtype=np.float64)
            w = w - lr * g
            path.append(w.copy())
    return np.array(path)
    # END SOLUTION


# %% [markdown]
# ## Part 6 — back-propagation on a computational graph
#
# The chain of Part 2 is a special case of a **computational graph**: every
# node computes a value from the values of its input nodes by one elementary
# operation, and a node may feed several others. Here a graph is a list of
# nodes in **topological order** (every node comes after its inputs), each a
# dict `{"name": ..., "op": ..., "inputs": [names]}`. Leaves are `input` nodes
# (their value comes from outside) and `const` nodes (their value is in the
# node's `"value"` field). The given table `OPS` maps each inner operation to
# `(f, df)`: `f(*input_values)` is the node's value and `df(*input_values)`
# the tuple of its partial derivatives, one per input.
#
# **Forward pass.** Walk the list in order; each node's inputs are already
# known, so apply its `f`.
#
# **Backward pass (reverse accumulation).** Let $L$ be the last node. Give
# every node an adjoint $\bar v = dL/dv$, starting from $\bar L = 1$ and 0
# everywhere else. Walk the list **in reverse**; when you reach node $u$ its
# adjoint is final (every node that uses $u$ comes later and has already been
# visited), so pass it on: for each input $v$ of $u$,
#
# $$\bar v \mathrel{+}= \bar u \cdot \frac{\partial u}{\partial v}.$$
#
# The `+=` is the whole trick: when a value reaches $L$ along several paths,
# the chain rule says the derivative is the **sum** over the paths, and each
# path deposits its share. If the same node is an input twice (as in
# `mul(x, x)`), it receives two terms, $x\cdot\bar u$ and $x\cdot\bar u$,
# which add up to the $2x\,\bar u$ you expect. A node with no path to $L$
# simply keeps its 0.
#
# Nothing here depends on which operations the graph uses: a new node type or
# a deeper network needs no new derivation, only its entry in `OPS`. That is
# what makes back-propagation a general tool.


# %%
# Given, not graded: the elementary operations of a graph. OPS[op] = (f, df),
# f(*values) the node's value, df(*values) the tuple of partial derivatives
# with respect to each input. The sigmoid here is written as
# exp(-log(1 + exp(-a))) so that it never overflows.
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "neg": (lambda a: -a, lambda a: (-1.0,)),
    "exp": (lambda a: np.exp(a), lambda a: (np.exp(a),)),
    "log": (lambda a: np.log(a), lambda a: (1.0 / a,)),
    "reciprocal": (lambda a: 1.0 / a, lambda a: (-1.0 / (a * a),)),
    "sigmoid": (
        lambda a: np.exp(-np.logaddexp(0.0, -a)),
        lambda a: (np.exp(-np.logaddexp(0.0, -a) - np.logaddexp(0.0, a)),),
    ),
    "square": (lambda a: a * a, lambda a: (2.0 * a,)),
}


# %%
def graph_forward(graph, inputs):
    """Forward pass: the value of every node of a computational graph.

    Args:
        graph: list of node dicts {"name", "op", "inputs"} in topological
            order; "input" and "const" nodes are leaves (a const carries its
            own "value").
        inputs: dict name -> float for the input nodes.

    Returns:
        dict name -> float, one entry per node. A const keeps its own value
        even if its name is in `inputs`. Inner nodes use OPS[op][0].

    Choice: values are stored as Python floats; keys of `inputs` that name no
    input node are ignored; a missing input raises KeyError.
    """
    # BEGIN SOLUTION
    values = {}
    for node in graph:
        op = node["op"]
        if op == "const":
            values[node["name"]] = float(node["value"])
        elif op == "input":
            values[node["name"]] = float(inputs[node["name"]])
        else:
            f = OPS[op][0]
            values[node["name"]] = float(f(*[values[name] for name in node["inputs"]]))
    return values
    # END SOLUTION


# %%
def graph_backward(graph, values):
    """Backward pass: dL/d(node) for every node, L being the last node.

    Reverse accumulation: adjoint[L] = 1, all others start at 0; visiting the
    nodes in reverse order, each inner node u adds
    adjoint[u] * d u / d v (from OPS[op][1]) to the adjoint of each input v.
    Contributions along different paths add up; a node listed k times among
    u's inputs receives k terms; a node with no path to L gets 0.0.

    Args:
        graph: the node list (topological order), as in `graph_forward`.
        values: dict name -> float, the forward values of every node.

    Returns:
        dict name -> float, one entry per node (leaves and consts included).

    Choice: a node whose adjoint is exactly 0 passes nothing on (the terms
    would all be 0), so the partials of nodes with no path to L are never
    evaluated. An empty graph gives {}.
    """
    # BEGIN SOLUTION
    adjoint = {node["name"]: 0.0 for node in graph}
    if not graph:
        return adjoint
    adjoint[graph[-1]["name"]] = 1.0
    for node in reversed(graph):
        if node["op"] in ("input", "const"):
            continue
        bar_u = adjoint[node["name"]]
        if bar_u == 0.0:
            continue
        args = [values[name] for name in node["inputs"]]
        partials = OPS[node["op"]][1](*args)
        for name, d in zip(node["inputs"], partials):
            adjoint[name] += bar_u * float(d)
    return adjoint
    # END SOLUTION


# %% [markdown]
# ## Part 7 — the single neuron on the Heart data, and the perceptron
#
# The lecture's Heart data describe 303 patients; the column `AHD` says
# whether angiographic heart disease was found ("Yes" or "No"). We predict it
# with one sigmoid neuron, i.e. logistic regression.
#
# **Preparing the inputs.** The columns live on very different scales
# (age in years, cholesterol in mg/dl, ...). Gradient descent with one `lr`
# for every weight works far better when each column is **standardized**:
# subtract its mean and divide by its standard deviation (the population
# one, `ddof = 0`: divide by $n$, not $n - 1$). Then a column of ones is put
# in front, for the intercept, and $y$ is 1.0 where `AHD == "Yes"`.
#
# **Training** is gradient descent on the summed loss from $W = 0$, exactly
# `fit_logistic`. **Accuracy** is the fraction of patients for which the
# prediction "$p > 0.5$" agrees with $y$.
#
# **The perceptron** is the neuron's ancestor (Rosenblatt, 1958). It outputs
# a hard decision $\hat y = 1$ if $x\cdot w > 0$ else $0$ and learns by a
# simple rule instead of a gradient: visiting the rows in order, it changes
# $w$ only when it is wrong,
#
# $$w \leftarrow w + (y_i - \hat y_i)\,x_i,$$
#
# adding the row when it said 0 for a 1 and subtracting it when it said 1 for
# a 0. With labels in $\{0, 1\}$ a tie $x\cdot w = 0$ predicts 0, so a row
# with $y = 0$ is *not* corrected at a tie. (The form with labels $\pm1$,
# "update when $y_i\,x_i\cdot w \le 0$", does correct it and so ends at a
# different $w$.) On linearly separable data the perceptron stops making
# mistakes after finitely many updates; on other data it never settles.


# %%
# Given, not graded: load the lecture's Heart data.
def load_heart(path=None):
    """Read the Heart data (303 rows; AHD is "Yes"/"No") into a DataFrame.

    Without `path`, looks for data/Heart.csv in the current working
    directory, then in the course folder (the parent of the folder holding
    this file), then in the parent of the working directory (handy in a
    notebook opened in exercises/).
    """
    if path is not None:
        return pd.read_csv(path)
    candidates = [Path.cwd() / "data" / "Heart.csv"]
    this_file = globals().get("__file__")
    if this_file:
        candidates.append(Path(this_file).resolve().parent.parent / "data" / "Heart.csv")
    candidates.append(Path.cwd().parent / "data" / "Heart.csv")
    for candidate in candidates:
        if candidate.is_file():
            return pd.read_csv(candidate)
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"Heart.csv not found (looked in: {looked}). Run from the course folder, "
        "or call load_heart(path=...) with the file's location."
    )


# %%
def heart_design(df, columns):
    """Design matrix and labels for the neuron on the Heart data.

    Args:
        df: the Heart DataFrame (with an "AHD" column of "Yes"/"No").
        columns: list of numeric column names (a single name is accepted).

    Returns:
        (X, y): X float64 of shape (n, 1 + len(columns)), first column all
        ones, then each given column minus its mean, divided by its
        population standard deviation (ddof = 0); y float64 (n,), 1.0 where
        AHD == "Yes" else 0.0. No rows are dropped.

    Choice: a missing value (NaN, e.g. in Ca) is left out of its column's
    mean and std (pandas' default) and stays NaN in X. The columns must be
    numeric and not constant (a zero std cannot be divided by).
    """
    # BEGIN SOLUTION
    cols = [columns] if isinstance(columns, str) else list(columns)
    Z = df[cols].astype(np.float64)
    Z = (Z - Z.mean()) / Z.std(ddof=0)
    X = np.column_stack([np.ones(len(df)), Z.to_numpy(dtype=np.float64)])
    y = (df["AHD"] == "Yes").to_numpy(dtype=np.float64)
    return X, y
    # END SOLUTION


# %%
def train_neuron(X, y, lr, n_steps):
    """Train one sigmoid neuron: gradient descent on the summed loss from 0.

    `X` is already prepared (ones column, standardized); nothing is
    standardized here. This is `fit_logistic(X, y, lr, n_steps)`.

    Returns: the weights W, float64 array (p,).
    """
    # BEGIN SOLUTION
    return np.array(fit_logistic(X, y, lr, n_steps), dtype=np.float64)
    # END SOLUTION


# %%
def neuron_accuracy(X, y, W):
    """Fraction of rows where the prediction (predict_proba(X, W) > 0.5) equals y.

    Args: X (n, p), y (n,) of 0.0 / 1.0, W (p,).
    Returns: a Python float in [0, 1]. p exactly 0.5 predicts 0.
    """
    # BEGIN SOLUTION
    p = np.asarray(predict_proba(X, W), dtype=np.float64)
    y_hat = (p > 0.5).astype(np.float64)
    return float(np.mean(y_hat == np.asarray(y, dtype=np.float64)))
    # END SOLUTION


# %%
def perceptron(X, y, n_epochs):
    """Rosenblatt's perceptron rule with labels in {0, 1}.

    From w = 0, for each epoch and each row i in order:
    y_hat = 1 if X[i] @ w > 0 else 0 (a tie predicts 0), then
    w <- w + (y[i] - y_hat) * X[i].

    Args: X (n, p); y (n,) of 0.0 / 1.0; n_epochs: int >= 0.
    Returns: the final w, float64 array (p,).
    """
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X.shape[1])
    for _ in range(n_epochs):
        for i in range(X.shape[0]):
            y_hat = 1.0 if X[i] @ w > 0 else 0.0
            w = w + (y[i] - y_hat) * X[i]
    return w
    # END SOLUTION


# %% [markdown]
# ## Part 8 — the multi-layer perceptron
#
# One neuron draws a single straight boundary. Stacking **layers** of them
# gives a multi-layer perceptron (MLP) that can draw curved ones. With
# `layer_sizes = [n_features, h_1, ..., h_k, 1]` there are $k$ hidden layers
# and one output unit. Layer $l$ has a weight matrix $W_l$ of shape
# `(n_in, n_out)` and a bias $b_l$ of shape `(n_out,)`. For the whole batch
# at once (rows are examples):
#
# $$A_0 = X,\qquad Z_l = A_{l-1} W_l + b_l,\qquad A_l = g(Z_l),$$
#
# where $g$ is the hidden **activation** (sigmoid, $\tanh$ or
# $\mathrm{relu}(z) = \max(z, 0)$) and the last layer always uses the sigmoid,
# so $A_L$ has shape $(n, 1)$ and $p = A_L[:, 0]$. The forward pass keeps a
# **cache** of every $Z_l$ and $A_l$: the backward pass needs them.
#
# **Initialization.** The weights start random, so that the units of a layer
# differ, with standard deviation $1/\sqrt{n_\text{in}}$ so that $Z$ keeps a
# moderate size whatever the width; the biases start at 0.
#
# **Backward pass.** The loss is the summed cross-entropy. For a sigmoid
# output the derivative with respect to the output's pre-activation is
# simply $\delta_L = \partial L/\partial Z_L = A_L - y$ (the same $p - y$ as
# for one neuron). Then, layer by layer from the top:
#
# $$\frac{\partial L}{\partial W_l} = A_{l-1}^\top \delta_l,\qquad
# \frac{\partial L}{\partial b_l} = \textstyle\sum_\text{rows} \delta_l,\qquad
# \delta_{l-1} = (\delta_l W_l^\top) \odot g'(Z_{l-1}),$$
#
# with $\sigma' = \sigma(1-\sigma)$, $\tanh' = 1 - \tanh^2$, and
# $\mathrm{relu}'(z) = 1$ for $z > 0$, else 0 (we take 0 at $z = 0$). This is
# Part 6's reverse accumulation, done a whole matrix at a time.
#
# **Training** is mini-batch SGD (Part 5): each epoch shuffles once, and for
# each batch runs one forward pass, one backward pass and one step
# $W_l \leftarrow W_l - \text{lr}\,\partial L/\partial W_l$,
# $b_l \leftarrow b_l - \text{lr}\,\partial L/\partial b_l$.


# %%
def init_mlp(layer_sizes, rng):
    """Random initial parameters of an MLP.

    Layer by layer (l = 1 .. L, n_in = layer_sizes[l-1], n_out =
    layer_sizes[l]): first W = rng.normal(0, 1/sqrt(n_in), size=(n_in, n_out)),
    then b = zeros(n_out). Nothing else is drawn from `rng`.

    Args: layer_sizes [n_features, h_1, ..., h_k, 1]; rng: numpy Generator.
    Returns: params, a list of (W, b) tuples, float64.
    """
    # BEGIN SOLUTION
    params = []
    for l in range(1, len(layer_sizes)):
        n_in, n_out = int(layer_sizes[l - 1]), int(layer_sizes[l])
        W = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        b = np.zeros(n_out)
        params.append((W, b))
    return params
    # END SOLUTION


# %%
def mlp_forward(params, X, activation):
    """Forward pass of the MLP, keeping the cache for the backward pass.

    A0 = X; Zl = A(l-1) @ Wl + bl; Al = activation(Zl) for hidden layers and
    sigmoid(Zl) for the last (output) layer.

    Args:
        params: list of (W, b), W (n_in, n_out), b (n_out,).
        X: inputs (n, n_features).
        activation: "sigmoid", "tanh" or "relu" (hidden layers only).

    Returns:
        (p, cache): p float64 (n,) = AL[:, 0]; cache = {"activation":
        activation, "A": [A0, ..., AL], "Z": [Z1, ..., ZL]}, AL of shape (n, 1).

    Calls `sigmoid` for the output layer and for the sigmoid activation.
    Choice: an unknown activation raises ValueError (even with no hidden layer).
    """
    # BEGIN SOLUTION
    if activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError(f"unknown activation {activation!r}: use sigmoid, tanh or relu")
    A = np.asarray(X, dtype=np.float64)
    As, Zs = [A], []
    n_layers = len(params)
    for l, (W, b) in enumerate(params, start=1):
        Z = A @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        if l == n_layers or activation == "sigmoid":
            A = np.asarray(sigmoid(Z), dtype=np.float64)
        elif activation == "tanh":
            A = np.tanh(Z)
        else:
            A = np.maximum(Z, 0.0)
        Zs.append(Z)
        As.append(A)
    p = As[-1][:, 0].copy()
    return p, {"activation": activation, "A": As, "Z": Zs}
    # END SOLUTION


# %%
def mlp_backward(params, cache, y):
    """Gradient of the summed cross-entropy with respect to every W and b.

    delta_L = A_L - y[:, None] (sigmoid output, summed loss); then for
    l = L .. 1: dW_l = A_(l-1).T @ delta_l, db_l = delta_l summed over rows,
    delta_(l-1) = (delta_l @ W_l.T) * g'(Z_(l-1)) with sigmoid' = A(1 - A),
    tanh' = 1 - A**2, relu' = 1 where Z > 0 else 0 (relu'(0) = 0), A and Z
    from the cache.

    Args:
        params: list of (W, b) as in `init_mlp`.
        cache: the dict `mlp_forward` returned for these params.
        y: labels (n,) of 0.0 / 1.0.

    Returns:
        grads: list of (dW, db) tuples with the shapes of params, float64.
    """
    # BEGIN SOLUTION
    activation = cache["activation"]
    A = [np.asarray(a, dtype=np.float64) for a in cache["A"]]
    Z = [np.asarray(z, dtype=np.float64) for z in cache["Z"]]
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    n_layers = len(params)
    grads = [None] * n_layers
    delta = A[-1] - y  # dL/dZ_L
    for l in range(n_layers, 0, -1):
        grads[l - 1] = (A[l - 1].T @ delta, delta.sum(axis=0))
        if l > 1:
            W = np.asarray(params[l - 1][0], dtype=np.float64)
            dA = delta @ W.T
            if activation == "sigmoid":
                g_prime = A[l - 1] * (1.0 - A[l - 1])
            elif activation == "tanh":
                g_prime = 1.0 - A[l - 1] ** 2
            elif activation == "relu":
                g_prime = (Z[l - 2] > 0).astype(np.float64)
            else:
                raise ValueError(f"unknown activation {activation!r}")
            delta = dA * g_prime
    return grads
    # END SOLUTION


# %%
def train_mlp(X, y, layer_sizes, activation, lr, n_epochs, batch_size, rng):
    """Train an MLP by mini-batch SGD on the summed cross-entropy.

    params = init_mlp(layer_sizes, rng); then each epoch
    minibatches(len(X), batch_size, rng), and for each batch b: one
    mlp_forward on X[b], one mlp_backward with y[b], and
    W <- W - lr * dW, b <- b - lr * db for every layer.

    Args:
        X (n, n_features); y (n,) of 0.0 / 1.0; layer_sizes; activation;
        lr: float; n_epochs, batch_size: int; rng: numpy Generator (used
        only through init_mlp and minibatches).

    Returns:
        The trained params: a list of (W, b) tuples, like `init_mlp`'s.
    """
    # BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    params = [
        (np.array(W, dtype=np.float64), np.array(b, dtype=np.float64))
        for W, b in init_mlp(layer_sizes, rng)
    ]
    for _ in range(n_epochs):
        for batch in minibatches(len(X), batch_size, rng):
            batch = np.asarray(batch, dtype=np.intp)
            _, cache = mlp_forward(params, X[batch], activation)
            grads = mlp_backward(params, cache, y[batch])
            params = [
                (
                    W - lr * np.asarray(dW, dtype=np.float64),
                    b - lr * np.asarray(db, dtype=np.float64),
                )
                for (W, b), (dW, db) in zip(params, grads)
            ]
    return params
    # END SOLUTION
