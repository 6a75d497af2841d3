"""A second, simpler implementation of batch normalization, for the tests only.

It shares no code with cs231n_lib.layers: the forward pass loops over the
features with plain Python sums, and the backward pass builds each feature's
Jacobian d out[:, j] / d x[:, j] (an N x N matrix) and multiplies dout by its
transpose, instead of walking the computational graph or using the closed form.
"""

import math

import numpy as np


def _column_stats(column):
    n = len(column)
    mean = sum(float(v) for v in column) / n
    var = sum((float(v) - mean) ** 2 for v in column) / n
    return mean, var


def forward(x, gamma, beta, bn_param):
    """(out, batch means, batch variances) of x (N, D); bn_param's running averages are updated in it."""
    N, D = x.shape
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.setdefault("running_var", np.zeros(D, dtype=x.dtype))
    out = np.empty((N, D), dtype=np.float64)
    means, variances = [], []
    for j in range(D):
        if bn_param["mode"] == "train":
            mean, var = _column_stats(x[:, j])
        else:
            mean, var = float(running_mean[j]), float(running_var[j])
        means.append(mean)
        variances.append(var)
        for i in range(N):
            out[i, j] = float(gamma[j]) * (float(x[i, j]) - mean) / math.sqrt(var + eps) + float(beta[j])
    if bn_param["mode"] == "train":
        bn_param["running_mean"] = np.array(
            [momentum * float(r) + (1 - momentum) * m for r, m in zip(running_mean, means)], dtype=x.dtype)
        bn_param["running_var"] = np.array(
            [momentum * float(r) + (1 - momentum) * v for r, v in zip(running_var, variances)], dtype=x.dtype)
    return out.astype(x.dtype), np.array(means), np.array(variances)


def backward(dout, x, gamma, eps):
    """(dx, dgamma, dbeta) of train-mode batch normalization, from each feature's Jacobian."""
    N, D = x.shape
    x64, dout64 = x.astype(np.float64), dout.astype(np.float64)
    dx = np.zeros((N, D))
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    for j in range(D):
        mean, var = _column_stats(x64[:, j])
        std = math.sqrt(var + eps)
        x_hat = (x64[:, j] - mean) / std
        # d x_hat[i] / d x[k] = (delta_ik - 1/N) / std - x_hat[i] * x_hat[k] / (N * std)
        jacobian = (np.eye(N) - 1.0 / N) / std - np.outer(x_hat, x_hat) / (N * std)
        dx[:, j] = float(gamma[j]) * jacobian.T @ dout64[:, j]
        dgamma[j] = float(np.dot(dout64[:, j], x_hat))
        dbeta[j] = float(np.sum(dout64[:, j]))
    return dx, dgamma, dbeta


def spatial_forward(x, gamma, beta, bn_param):
    """Batch normalization of each channel of x (N, C, H, W) over its N * H * W values, channel by channel."""
    N, C, H, W = x.shape
    rows = np.stack([x[:, c].reshape(-1) for c in range(C)], axis=1)  # (N*H*W, C), built channel by channel
    out_rows, means, variances = forward(rows, gamma, beta, bn_param)
    out = np.empty(x.shape, dtype=out_rows.dtype)
    for c in range(C):
        out[:, c] = out_rows[:, c].reshape(N, H, W)
    return out


def spatial_backward(dout, x, gamma, eps):
    N, C, H, W = x.shape
    rows = np.stack([x[:, c].reshape(-1) for c in range(C)], axis=1)
    dout_rows = np.stack([dout[:, c].reshape(-1) for c in range(C)], axis=1)
    dx_rows, dgamma, dbeta = backward(dout_rows, rows, gamma, eps)
    dx = np.empty(x.shape)
    for c in range(C):
        dx[:, c] = dx_rows[:, c].reshape(N, H, W)
    return dx, dgamma, dbeta
