#!/usr/bin/env python3
"""fql-env-bridge server (protocol version 1): serves one gymnasium, OGBench or D4RL environment over stdin/stdout.

The Java evaluator (`fql evaluate --env 'bridge:python3 envbridge/fql_env_server.py --env-id ID'`) starts this script
on each executor and drives it with JSON lines; the protocol is specified in envbridge/README.md. In short:

    server -> {"protocol": "fql-env-bridge", "version": 1, "ok": true, "env_id": ..., "obs_dim": ..., "action_dim": ...,
               "action_low": [...], "action_high": [...], "max_episode_steps": ...}
    client -> {"op": "reset", "seed": 123}        server -> {"ok": true, "observation": [...]}
    client -> {"op": "step", "action": [...]}     server -> {"ok": true, "observation": [...], "reward": r,
                                                             "terminated": b, "truncated": b, "success": b or null}
    client -> {"op": "close"}                     server -> {"ok": true}, then exits 0 (end of stdin: the same)

Failures are answered with {"ok": false, "error": "..."}; tracebacks go to stderr, which the client keeps for its
error messages. Only protocol lines go to stdout: anything else that writes there (library banners, MuJoCo warnings
from C code) is redirected to stderr at the file-descriptor level before any environment package is imported.

gymnasium, ogbench, d4rl and numpy are imported lazily, only the ones the chosen backend needs.
"""

import argparse
import json
import math
import os
import re
import sys
import traceback

PROTOCOL = "fql-env-bridge"
VERSION = 1
SERVER = "fql_env_server.py 1.0"

# Environment-id families, for --backend auto.
OGBENCH_ID = re.compile(
    r"^(visual-)?(pointmaze|antmaze|humanoidmaze|antsoccer|cube|scene|puzzle)-[a-z0-9x-]*"
    r"(navigate|stitch|explore|teleport|arena|play|noisy)[a-z0-9-]*-v\d+$")
D4RL_ID = re.compile(
    r"^(antmaze-(umaze|umaze-diverse|medium-play|medium-diverse|large-play|large-diverse)-v[012]"
    r"|(pen|door|hammer|relocate)-(human|cloned|expert)-v[01])$")


def guess_backend(env_id):
    if D4RL_ID.match(env_id):
        return "d4rl"
    if OGBENCH_ID.match(env_id):
        return "ogbench"
    return "gymnasium"


def make_env(env_id, backend, env_kwargs):
    """Builds the environment the way FQL's reference code does for each benchmark family."""
    if backend == "ogbench":
        try:
            import ogbench
        except ImportError as e:
            raise RuntimeError("OGBench is not installed on this machine (pip install ogbench==1.1.0): %s" % e)
        env = ogbench.make_env_and_datasets(env_id, env_only=True, **env_kwargs)
        return env[0] if isinstance(env, tuple) else env
    if backend == "d4rl":
        try:
            import d4rl  # noqa: F401  (registers the D4RL environments with gym)
            import gymnasium
        except ImportError as e:
            raise RuntimeError("D4RL needs d4rl, gym, gymnasium and shimmy on this machine: %s" % e)
        # FQL wraps the gym-0.23 D4RL environments for gymnasium this way.
        return gymnasium.make("GymV21Environment-v0", env_id=env_id, **env_kwargs)
    try:
        import gymnasium
    except ImportError as e:
        raise RuntimeError("gymnasium is not installed on this machine (pip install gymnasium): %s" % e)
    return gymnasium.make(env_id, **env_kwargs)


class EnvAdapter:
    """Flat float observations and actions over a gymnasium-style (or old gym-style) environment."""

    def __init__(self, env, max_episode_steps):
        import numpy as np
        self.np = np
        self.env = env
        obs_space = env.observation_space
        act_space = env.action_space
        if getattr(obs_space, "shape", None) is None or getattr(act_space, "shape", None) is None:
            raise RuntimeError("only flat Box observation and action spaces are supported, got %r and %r" % (obs_space, act_space))
        if not hasattr(act_space, "low"):
            raise RuntimeError("the action space must be a Box (continuous), got %r" % (act_space,))
        self.obs_dim = int(np.prod(obs_space.shape))
        self.action_shape = act_space.shape
        self.action_dim = int(np.prod(act_space.shape))
        self.action_dtype = act_space.dtype
        self.low = np.asarray(act_space.low, dtype=np.float64).reshape(-1)
        self.high = np.asarray(act_space.high, dtype=np.float64).reshape(-1)
        spec_limit = getattr(getattr(env, "spec", None), "max_episode_steps", None)
        self.max_episode_steps = max_episode_steps if max_episode_steps else spec_limit
        self.steps = 0

    def handshake(self, env_id, backend):
        return {
            "protocol": PROTOCOL, "version": VERSION, "ok": True, "server": SERVER, "backend": backend,
            "env_id": env_id, "obs_dim": self.obs_dim, "action_dim": self.action_dim,
            "action_low": finite_list(self.low), "action_high": finite_list(self.high),
            "max_episode_steps": int(self.max_episode_steps) if self.max_episode_steps else None,
        }

    def reset(self, seed):
        self.steps = 0
        try:
            result = self.env.reset(seed=seed)
        except TypeError:  # old gym API: no seed keyword
            self.env.seed(seed)
            result = self.env.reset()
        observation = result[0] if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict) else result
        return {"ok": True, "observation": self.flat(observation)}

    def step(self, action):
        np = self.np
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.shape[0] != self.action_dim:
            raise ValueError("action has %d values, the environment takes %d" % (a.shape[0], self.action_dim))
        a = np.clip(a, self.low, self.high).astype(self.action_dtype).reshape(self.action_shape)
        result = self.env.step(a)
        if len(result) == 5:
            observation, reward, terminated, truncated, info = result
        else:  # old gym API: (obs, reward, done, info)
            observation, reward, done, info = result
            truncated = bool(info.get("TimeLimit.truncated", False))
            terminated = bool(done) and not truncated
        self.steps += 1
        if self.max_episode_steps and self.steps >= self.max_episode_steps:
            truncated = True
        success = info.get("success") if isinstance(info, dict) else None
        return {
            "ok": True, "observation": self.flat(observation), "reward": float(reward),
            "terminated": bool(terminated), "truncated": bool(truncated),
            "success": None if success is None else bool(float(success) > 0),
        }

    def flat(self, observation):
        return [float(x) for x in self.np.asarray(observation, dtype=self.np.float64).reshape(-1)]

    def close(self):
        try:
            self.env.close()
        except Exception:  # closing is best effort
            traceback.print_exc()


def finite_list(values):
    """Bounds as JSON numbers: infinite bounds become +-1e30 (JSON has no infinity)."""
    return [max(-1e30, min(1e30, float(v))) if not math.isnan(float(v)) else 0.0 for v in values]


class Channel:
    """The protocol stream: a private copy of the original stdout; fd 1 itself now points at stderr."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, message):
        self.out.write(json.dumps(message, allow_nan=False, separators=(",", ":")) + "\n")
        self.out.flush()


def serve(channel, adapter):
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            op = request.get("op") if isinstance(request, dict) else None
            if op == "reset":
                seed = request.get("seed")
                answer = adapter.reset(None if seed is None else int(seed))
            elif op == "step":
                answer = adapter.step(request["action"])
            elif op == "close":
                channel.send({"ok": True})
                return
            else:
                answer = {"ok": False, "error": "unknown request %r (expected op reset, step or close)" % (line[:200],)}
            try:
                channel.send(answer)
            except ValueError as e:  # NaN or infinity in an observation or reward
                channel.send({"ok": False, "error": "the environment returned a non-finite number: %s" % e})
        except Exception as e:
            traceback.print_exc()
            channel.send({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve one environment over the fql-env-bridge protocol (v1) on stdin/stdout.")
    parser.add_argument("--env-id", required=True, help="gymnasium, OGBench or D4RL environment id")
    parser.add_argument("--backend", choices=["auto", "gymnasium", "ogbench", "d4rl"], default="auto",
                        help="how to build the environment (auto: OGBench ids through ogbench, D4RL antmaze/adroit ids "
                             "through d4rl, anything else through gymnasium.make)")
    parser.add_argument("--max-episode-steps", type=int, default=0,
                        help="time limit to report and enforce (default: the environment spec's)")
    parser.add_argument("--env-kwargs", default="{}", help="JSON object of keyword arguments for the environment constructor")
    args = parser.parse_args(argv)

    channel = Channel()
    backend = guess_backend(args.env_id) if args.backend == "auto" else args.backend
    try:
        env_kwargs = json.loads(args.env_kwargs)
        if not isinstance(env_kwargs, dict):
            raise ValueError("--env-kwargs must be a JSON object")
        adapter = EnvAdapter(make_env(args.env_id, backend, env_kwargs), args.max_episode_steps)
    except Exception as e:
        traceback.print_exc()
        channel.send({"protocol": PROTOCOL, "version": VERSION, "ok": False,
                      "error": "could not create %r with backend %s: %s: %s" % (args.env_id, backend, type(e).__name__, e)})
        return 1
    channel.send(adapter.handshake(args.env_id, backend))
    try:
        serve(channel, adapter)
    finally:
        adapter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
