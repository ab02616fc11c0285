"""A stand-in for gymnasium, just enough for envbridge/fql_env_server.py: one environment, FakeReach-v0.

It also misbehaves the way real packages do: it prints a banner on import, both through Python and straight to file
descriptor 1 (as C libraries do), which the server must keep off its protocol stream.
"""

import os
import sys

import numpy as np

print("fake gymnasium 0.0: hello from print()")
sys.stdout.flush()
os.write(1, b"fake gymnasium 0.0: hello from C code on fd 1\n")


class Box:
    def __init__(self, low, high, shape, dtype=np.float32):
        self.shape = shape
        self.dtype = dtype
        self.low = np.full(shape, low, dtype=dtype)
        self.high = np.full(shape, high, dtype=dtype)


class Spec:
    def __init__(self, max_episode_steps):
        self.max_episode_steps = max_episode_steps


class FakeReach:
    """A point in the plane, obs (x, y), action (dx, dy) scaled by 0.1; success within 0.15 of (0.5, 0.5)."""

    def __init__(self, max_episode_steps=30):
        self.observation_space = Box(-np.inf, np.inf, (2,))
        self.action_space = Box(-1.0, 1.0, (2,))
        self.spec = Spec(max_episode_steps)
        self.position = np.zeros(2)

    def reset(self, seed=None):
        rng = np.random.default_rng(seed)
        self.position = rng.uniform(-0.5, 0.5, size=2)
        return self.position.astype(np.float32), {}

    def step(self, action):
        assert action.dtype == np.float32 and action.shape == (2,), (action.dtype, action.shape)
        assert np.all(np.abs(action) <= 1.0), action
        self.position = self.position + 0.1 * action
        success = float(np.linalg.norm(self.position - 0.5) <= 0.15)
        return self.position.astype(np.float32), success - 1.0, bool(success), False, {"success": success}

    def close(self):
        pass


def make(env_id, **kwargs):
    if env_id != "FakeReach-v0":
        raise ValueError("Environment %s doesn't exist (fake gymnasium knows FakeReach-v0)" % env_id)
    return FakeReach(**kwargs)
