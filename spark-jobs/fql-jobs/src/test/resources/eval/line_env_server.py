#!/usr/bin/env python3
"""Test server for the fql-env-bridge protocol (v1), standard library only: a 1-D point on a line.

Environment: observation [x, goal_distance] (2 values, so a point-maze-sized checkpoint fits), action 2 values of
which the first moves x by 0.25 * clip(a, -1, 1); reset(seed) puts x at ((seed * 7919) % 1000) / 1000 - 0.5; the
goal is x >= 1 (reward 0, terminated, success), else reward -1; time limit --max-steps (reported in the handshake).

Faults, to test the client's error handling:
  --fault crash        exit with code 3 (after a message on stderr) at step --fault-step of the chosen episode
  --fault hang         stop answering at that step
  --fault garbage      answer that step with a line that is not JSON
  --fault wrong-shape  answer that step with a 3-value observation
  --fault error        answer that step with {"ok": false, "error": ...} (the environment raised)
  --fault bad-version  handshake says version 99
  --fault no-handshake print a banner line instead of the handshake
  --fault silent       never send the handshake
  --fault start-error  handshake with ok false
  --fault duplicate    answer that step twice (in one write)
  --fault long-line    answer that step with a 5 MB line
  --fault stderr-flood write one 6 MB line to stderr (ending in END-OF-FLOOD), then exit with code 3, at that step
The step faults hit the episode reset with --fault-seed (every episode when it is -1), and only while the file
--fault-file names exists, when that is given (so a test can let a retry succeed).
"""

import argparse
import os
import json
import sys
import time


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--fault", default="none")
    parser.add_argument("--fault-seed", type=int, default=-1)
    parser.add_argument("--fault-step", type=int, default=1)
    parser.add_argument("--fault-file", default=None)
    args = parser.parse_args()

    print("line_env_server starting, fault=%s" % args.fault, file=sys.stderr)
    if args.fault == "silent":
        time.sleep(3600)
    if args.fault == "no-handshake":
        print("Welcome to LineEnv 1.0!")
        sys.stdout.flush()
        time.sleep(3600)
    if args.fault == "start-error":
        send({"protocol": "fql-env-bridge", "version": 1, "ok": False, "error": "MuJoCo licence not found (simulated)"})
        return 1
    version = 99 if args.fault == "bad-version" else 1
    send({"protocol": "fql-env-bridge", "version": version, "ok": True, "env_id": "line-v0", "obs_dim": 2,
          "action_dim": 2, "action_low": [-1.0, -1.0], "action_high": [1.0, 1.0], "max_episode_steps": args.max_steps})

    x = 0.0
    steps = 0
    faulty = False
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "close":
            send({"ok": True})
            return 0
        if op == "reset":
            seed = int(request["seed"])
            x = ((seed * 7919) % 1000) / 1000.0 - 0.5
            steps = 0
            faulty = args.fault_seed in (-1, seed) and (args.fault_file is None or os.path.exists(args.fault_file))
            send({"ok": True, "observation": [x, 1.0 - x]})
            continue
        steps += 1
        if faulty and steps == args.fault_step:
            if args.fault == "crash":
                print("Segmentation fault (simulated) in step %d" % steps, file=sys.stderr)
                sys.stderr.flush()
                sys.exit(3)
            if args.fault == "hang":
                time.sleep(3600)
            if args.fault == "garbage":
                sys.stdout.write("Warning: MuJoCo is feeling chatty today\n")
                sys.stdout.flush()
                continue
            if args.fault == "wrong-shape":
                send({"ok": True, "observation": [x, 1.0 - x, 0.0], "reward": -1.0, "terminated": False,
                      "truncated": False, "success": False})
                continue
            if args.fault == "error":
                send({"ok": False, "error": "ValueError: simulated physics blow-up"})
                continue
            if args.fault == "long-line":
                sys.stdout.write('{"ok": true, "padding": "' + "x" * (5 << 20) + '"}\n')
                sys.stdout.flush()
                continue
            if args.fault == "stderr-flood":
                sys.stderr.write("flood start " + "y" * (6 << 20) + " END-OF-FLOOD\n")
                sys.stderr.flush()
                sys.exit(3)
        a = max(-1.0, min(1.0, float(request["action"][0])))
        x += 0.25 * a
        success = x >= 1.0
        answer = {"ok": True, "observation": [x, 1.0 - x], "reward": 0.0 if success else -1.0, "terminated": success,
                  "truncated": steps >= args.max_steps, "success": success}
        if faulty and steps == args.fault_step and args.fault == "duplicate":
            line = json.dumps(answer) + "\n"
            sys.stdout.write(line + line)   # one write, so both lines reach the client together
            sys.stdout.flush()
            continue
        send(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
