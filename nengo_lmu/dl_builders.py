"""Native NengoDL (TensorFlow) builder for `.SimLinearSystem` operators.

Imported lazily by `nengo_lmu.builders` when a model is built while NengoDL is loaded.
"""

import tensorflow as tf
from nengo_dl.builder import Builder, OpBuilder

from nengo_lmu.builders import SimLinearSystem


@Builder.register(SimLinearSystem)
class SimLinearSystemBuilder(OpBuilder):
    """Step a group of identical linear systems as one batched matrix product.

    The merged state has shape ``(minibatch, dimensions, order)``; each step computes
    ``X = X A^T + u b^T`` for all dimensions of all merged operators at once.
    """

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        op = self.ops[0]
        A, B, C, D = op.discrete_ss(signals.dt_val)
        self.outputs_state = op.outputs_state
        self.input_data = signals.combine([op.input for op in self.ops])
        self.output_data = signals.combine([op.output for op in self.ops])
        self.state_data = signals.combine([op.state["X"] for op in self.ops])
        self.order = A.shape[0]
        self.AT = tf.constant(A.T, dtype=signals.dtype)
        self.b = tf.constant(B[:, 0], dtype=signals.dtype)
        if not self.outputs_state:
            self.c = tf.constant(C[0], dtype=signals.dtype)
            self.d = float(D.item())

    def build_step(self, signals):
        u = signals.gather(self.input_data)  # (minibatch, dims)
        X = signals.gather(self.state_data)  # (minibatch, dims, order)
        X_new = (
            tf.reshape(tf.matmul(tf.reshape(X, (-1, self.order)), self.AT), tf.shape(X))
            + u[..., None] * self.b
        )
        signals.scatter(self.state_data, X_new)

        if self.outputs_state:
            y = tf.reshape(X_new, (tf.shape(X)[0], -1))
        elif self.d == 0:
            y = tf.reduce_sum(X_new * self.c, axis=-1)
        else:
            y = tf.reduce_sum(X * self.c, axis=-1) + self.d * u
        signals.scatter(self.output_data, y)

    @staticmethod
    def mergeable(x, y):
        return x.merge_key == y.merge_key
