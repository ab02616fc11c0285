#!/usr/bin/env python3
"""Writes an `fql-golden-v1` dump (see docs/golden-format.md) with the PyTorch reference of FQL.

The reference (`fql_ref.py`) is imported from the directory given by --reference; none of its code lives
here. This script only chooses sizes, config, initial weights, batches and noise, runs the reference in
float64 (and once more in float32 for the tolerance scale) and serialises the result.

Every input (initial weights, batch, noise) is rounded to float32 first, so a float32 implementation loads
exactly the values the float64 reference used.

Run with Debian's torch and OpenBLAS (see README.md next to this file):
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 make_golden.py \
        --reference /path/to/reference --out dump.json [options]
"""

import argparse
import importlib
import json
import math
import os
import sys

import torch

LOSS_NAMES = ('critic_loss', 'bc_flow_loss', 'distill_loss', 'q_loss', 'actor_loss', 'total_loss')
F64 = torch.float64
F32 = torch.float32


def dims(text):
    return tuple(int(x) for x in text.split(',') if x.strip())


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--reference', required=True, help='directory that holds fql_ref.py')
    p.add_argument('--out', required=True, help='dump to write')
    p.add_argument('--obs-dim', type=int, default=3)
    p.add_argument('--action-dim', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--hidden', type=dims, default=None, help='hidden widths of every network, e.g. 8,8')
    p.add_argument('--actor-hidden', type=dims, default=None, help='hidden widths of both actors (overrides --hidden)')
    p.add_argument('--value-hidden', type=dims, default=None, help='hidden widths of the critic (overrides --hidden)')
    p.add_argument('--flow-steps', type=int, default=3)
    p.add_argument('--q-agg', choices=('mean', 'min'), default='mean')
    p.add_argument('--normalize-q-loss', action='store_true')
    p.add_argument('--actor-layer-norm', action='store_true')
    p.add_argument('--alpha', type=float, default=10.0)
    p.add_argument('--discount', type=float, default=0.99)
    p.add_argument('--tau', type=float, default=0.005)
    p.add_argument('--lr', type=float, default=3e-4)
    p.add_argument('--seed', type=int, default=0, help='weight initialisation seed (fql_ref.FQLAgent seed)')
    p.add_argument('--data-seed', type=int, default=None, help='seed of batches and noise (default: seed + 1000)')
    p.add_argument('--num-steps', type=int, default=3, help='steps of the multi_step section')
    p.add_argument('--onestep-last-kernel-scale', type=float, default=1.0,
                   help='multiply actor_onestep_flow\'s last Dense kernel, to push one-step actions outside [-1, 1]')
    p.add_argument('--actions-near-bounds', action='store_true',
                   help='dataset actions of magnitude in [0.95, 1 - 1e-5] (random sign) instead of U(-0.9, 0.9)')
    p.add_argument('--z-extremes', action='store_true',
                   help='set z[0,0] = 2.75 and z[B-1,A-1] = -3.1 so that flow targets get clipped')
    p.add_argument('--require-actions-outside', action='store_true',
                   help='fail unless some (not all) one-step actions of step 1 lie outside [-1, 1]')
    p.add_argument('--require-flow-clipped', action='store_true',
                   help='fail unless some flow-target entries of step 1 were clipped')
    p.add_argument('--description', default='', help='what this case is for (prepended to the generated text)')
    p.add_argument('--inputs-from', default=None,
                   help='take config, sizes, params_init, batches and noises from this dump instead of drawing them '
                        '(to check this script against a dump made elsewhere)')
    p.add_argument('--check-against', default=None,
                   help='after writing, compare every key and number with this dump and print the largest deviation')
    return p.parse_args(argv)


def load_reference(directory):
    directory = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(directory, 'fql_ref.py')):
        sys.exit(f'--reference {directory}: no fql_ref.py there')
    sys.path.insert(0, directory)
    return importlib.import_module('fql_ref')


def f32(t):
    """Round to the nearest float32 and hold it in float64."""
    return t.to(F32).to(F64)


def tensor_json(t):
    t = t.detach().to(F64).contiguous()
    return {'shape': list(t.shape), 'data': t.reshape(-1).tolist()}


def from_json(node):
    return torch.tensor(node['data'], dtype=F64).reshape(node['shape'])


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------

def make_config(R, a):
    hidden = a.hidden or (8, 8)
    return R.get_config(
        lr=a.lr, batch_size=a.batch_size, actor_hidden_dims=a.actor_hidden or hidden,
        value_hidden_dims=a.value_hidden or hidden, actor_layer_norm=a.actor_layer_norm, discount=a.discount,
        tau=a.tau, q_agg=a.q_agg, alpha=a.alpha, flow_steps=a.flow_steps, normalize_q_loss=a.normalize_q_loss)


def initial_params(R, cfg, obs_dim, action_dim, seed, onestep_scale):
    """The reference's official initialisation in float64, rounded to float32; optionally a scaled one-step head."""
    agent = R.FQLAgent(obs_dim, action_dim, cfg, seed=seed, dtype=F64)
    params = {name: f32(L[k].detach().clone()) for name, L, k in agent.named_params()}
    if onestep_scale != 1.0:
        last = len(cfg['actor_hidden_dims'])
        key = f'actor_onestep_flow/Dense_{last}/kernel'
        params[key] = f32(params[key] * onestep_scale)
    return params, [name for name, _, _ in agent.named_params()], \
        [name for name, _, _ in agent.named_params(R.TRAINABLE)]


def draw_batch(gen, B, D, A, near_bounds, R):
    obs = torch.randn((B, D), generator=gen, dtype=F64)
    next_obs = torch.randn((B, D), generator=gen, dtype=F64)
    if near_bounds:
        sign = torch.where(torch.rand((B, A), generator=gen, dtype=F64) < 0.5, -1.0, 1.0)
        magnitude = 1.0 - 0.05 * torch.rand((B, A), generator=gen, dtype=F64)
        actions = sign * magnitude
    else:
        actions = (torch.rand((B, A), generator=gen, dtype=F64) * 2 - 1) * 0.9
    actions = R.clip_dataset_actions(actions)  # the official pipeline's data-side clip to [-1+1e-5, 1-1e-5]
    rewards = torch.randn((B,), generator=gen, dtype=F64)
    masks = (torch.rand((B,), generator=gen, dtype=F64) > 0.25).to(F64)
    masks[min(1, B - 1)] = 0.0   # at least one terminal transition
    masks[0] = 1.0               # and at least one bootstrapped one
    batch = dict(observations=obs, actions=actions, rewards=rewards, masks=masks, next_observations=next_obs)
    return {k: f32(v) for k, v in batch.items()}


def draw_noise(gen, B, A, z_extremes):
    noise = dict(
        next_noise=torch.randn((B, A), generator=gen, dtype=F64),
        x0=torch.randn((B, A), generator=gen, dtype=F64),
        t=torch.rand((B, 1), generator=gen, dtype=F64),
        z=torch.randn((B, A), generator=gen, dtype=F64),
    )
    if z_extremes:
        noise['z'][0, 0] = 2.75
        noise['z'][B - 1, A - 1] = -3.1
    return {k: f32(v) for k, v in noise.items()}


# ------------------------------------------------------------------------------------------------
# the reference computation
# ------------------------------------------------------------------------------------------------

def agent_at(R, cfg, obs_dim, action_dim, params, dtype):
    agent = R.FQLAgent(obs_dim, action_dim, cfg, seed=0, dtype=dtype)
    agent.set_params(params)
    return agent


def cast(d, dtype):
    return {k: v.to(dtype) for k, v in d.items()}


def one_step(R, cfg, D, A, params, batch, noise, dtype):
    """Losses, intermediates, the gradient of each loss, then one train step (Adam + target update)."""
    agent = agent_at(R, cfg, D, A, params, dtype)
    b, n = cast(batch, dtype), cast(noise, dtype)
    out = agent.losses(b, n, keep_intermediates=True)
    trainable = agent.trainable()
    grads = {}
    for loss in LOSS_NAMES:
        g = torch.autograd.grad(out[loss], trainable, retain_graph=True, allow_unused=True)
        grads[loss] = [torch.zeros_like(p) if gi is None else gi for p, gi in zip(trainable, g)]
    losses = {k: out[k].item() for k in LOSS_NAMES}
    inter = out['intermediates']
    step_losses = agent.train_step(b, n)
    for k in LOSS_NAMES:   # train_step recomputes the same losses; they must agree exactly
        assert step_losses[k] == losses[k], (k, step_losses[k], losses[k])
    return dict(agent=agent, losses=losses, intermediates=inter, grads=grads)


def multi_step(R, cfg, D, A, params, batches, noises, dtype):
    agent = agent_at(R, cfg, D, A, params, dtype)
    per_step = []
    for b, n in zip(batches, noises):
        s = agent.train_step(cast(b, dtype), cast(n, dtype))
        per_step.append({k: s[k] for k in LOSS_NAMES})
    return agent, per_step


def named_values(agent, modules):
    return {name: L[k].detach() for name, L, k in agent.named_params(modules)}


def max_abs_dev(xs, ys):
    return max(float((x.to(F64) - y.to(F64)).abs().max()) for x, y in zip(xs, ys))


# ------------------------------------------------------------------------------------------------

def describe(a, cfg, D, A, onestep_key):
    parts = [a.description.strip()] if a.description.strip() else []
    if a.inputs_from:
        parts.append(f'Inputs (config, params_init, batches, noises) copied from {os.path.basename(a.inputs_from)}.')
    else:
        parts.append(
            f'Official initialisation of fql_ref.FQLAgent(seed={a.seed}) in float64 rounded to float32 '
            f'(Glorot-uniform kernels, zero biases, LN scale 1/bias 0, target_critic == critic)'
            + (f', then {onestep_key} multiplied by {a.onestep_last_kernel_scale:g} (rounded to float32)'
               if a.onestep_last_kernel_scale != 1.0 else '') + '.')
        parts.append(
            f'Batches and noise from torch.Generator seed {a.data_seed} (float64 draws rounded to float32): '
            'observations, next_observations, rewards ~ N(0,1); '
            + ('actions = random sign x U[0.95, 1] ' if a.actions_near_bounds else 'actions ~ U(-0.9, 0.9) ')
            + 'then clipped to [-1+1e-5, 1-1e-5]; masks = 1[U > 0.25] with masks[0] = 1, masks[1] = 0; '
              'next_noise, x0, z ~ N(0,1), t ~ U[0,1)'
            + ('; z[0,0] = 2.75 and z[B-1,A-1] = -3.1 to force clipped flow targets' if a.z_extremes else '')
            + '.')
    parts.append(
        f'Sizes: obs_dim {D}, action_dim {A}, batch {cfg["batch_size"]}, actor hidden {list(cfg["actor_hidden_dims"])}, '
        f'value hidden {list(cfg["value_hidden_dims"])}, flow_steps {cfg["flow_steps"]}; q_agg {cfg["q_agg"]}, '
        f'normalize_q_loss {str(cfg["normalize_q_loss"]).lower()}, actor_layer_norm {str(cfg["actor_layer_norm"]).lower()}, '
        f'alpha {cfg["alpha"]:g}, discount {cfg["discount"]:g}; other hyper-parameters are the official defaults.')
    parts.append('Made by spark-jobs/fql-agent/src/test/python/make_golden.py ' + ' '.join(
        x for x in _cli_for_description(sys.argv[1:])) + '.')
    return ' '.join(parts)


def _cli_for_description(argv):
    """The command-line options, without machine-specific paths."""
    out, skip = [], False
    for x in argv:
        if skip:
            skip = False
            continue
        if x in ('--reference', '--out', '--check-against', '--description'):
            skip = True
            continue
        if x.startswith(('--reference=', '--out=', '--check-against=', '--description=')):
            continue
        out.append(x)
    return out


def main(argv=None):
    a = parse_args(argv)
    R = load_reference(a.reference)
    torch.manual_seed(0)   # nothing should use the global generator; pin it anyway
    if a.data_seed is None:
        a.data_seed = a.seed + 1000

    if a.inputs_from:
        src = json.load(open(a.inputs_from))
        c = dict(src['config'])
        D, A = c.pop('obs_dim'), c.pop('action_dim')
        c['actor_hidden_dims'] = tuple(c['actor_hidden_dims'])
        c['value_hidden_dims'] = tuple(c['value_hidden_dims'])
        cfg = R.get_config(**c)
        params = {k: from_json(v) for k, v in src['params_init'].items()}
        param_names, trainable_names = src['param_names'], src['trainable_param_names']
        batches = [{k: from_json(v) for k, v in b.items()} for b in src['multi_step']['batches']]
        noises = [{k: from_json(v) for k, v in n.items()} for n in src['multi_step']['noises']]
        batches[0] = {k: from_json(v) for k, v in src['batch'].items()}
        noises[0] = {k: from_json(v) for k, v in src['noise'].items()}
        onestep_key = None
    else:
        cfg = make_config(R, a)
        D, A, B = a.obs_dim, a.action_dim, a.batch_size
        params, param_names, trainable_names = initial_params(R, cfg, D, A, a.seed, a.onestep_last_kernel_scale)
        onestep_key = f'actor_onestep_flow/Dense_{len(cfg["actor_hidden_dims"])}/kernel'
        gen = torch.Generator().manual_seed(a.data_seed)
        batches, noises = [], []
        for s in range(a.num_steps):
            batches.append(draw_batch(gen, B, D, A, a.actions_near_bounds, R))
            noises.append(draw_noise(gen, B, A, a.z_extremes and s == 0))

    # float64: the reference values
    single = one_step(R, cfg, D, A, params, batches[0], noises[0], F64)
    agent1 = single['agent']
    multi_agent, multi_losses = multi_step(R, cfg, D, A, params, batches, noises, F64)
    for k in LOSS_NAMES:
        assert multi_losses[0][k] == single['losses'][k]

    # float32: the same computation, for the tolerance scale
    single32 = one_step(R, cfg, D, A, params, batches[0], noises[0], F32)
    multi32, _ = multi_step(R, cfg, D, A, params, batches, noises, F32)

    inter = single['intermediates']
    coverage = {
        'one_step_actions_outside_[-1,1]': int((inter['actor_actions'].abs() > 1).sum()),
        # clamp returns exactly +-1; an unclipped Euler result of exactly +-1 has probability zero
        'flow_target_actions_clipped': int((inter['target_flow_actions'].abs() == 1).sum()),
        'masks_zero': int((batches[0]['masks'] == 0).sum()),
    }
    n_actions = inter['actor_actions'].numel()
    if a.require_actions_outside and not 0 < coverage['one_step_actions_outside_[-1,1]'] < n_actions:
        sys.exit(f'coverage: want some but not all one-step actions outside [-1, 1], got {coverage}')
    if a.require_flow_clipped and coverage['flow_target_actions_clipped'] == 0:
        sys.exit(f'coverage: want clipped flow targets, got {coverage}')

    trainable_index = {n: i for i, n in enumerate(trainable_names)}
    all_modules = R.MODULES
    config_out = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    config_out['obs_dim'], config_out['action_dim'] = D, A

    def trainable_map(values):
        return {n: tensor_json(values[trainable_index[n]]) for n in trainable_names}

    after1 = named_values(agent1, all_modules)
    after_multi = named_values(multi_agent, all_modules)
    version = '.'.join(torch.__version__.split('.')[:2])
    dump = {
        'format': 'fql-golden-v1',
        'description': describe(a, cfg, D, A, onestep_key),
        'generator': f'reference/fql_ref.py (PyTorch {version}, float64)',
        'compute_dtype': 'float64 (all inputs/initial weights are float32-representable)',
        'config': config_out,
        'param_names': list(param_names),
        'trainable_param_names': list(trainable_names),
        'params_init': {n: tensor_json(params[n]) for n in param_names},
        'batch': {k: tensor_json(v) for k, v in batches[0].items()},
        'noise': {k: tensor_json(v) for k, v in noises[0].items()},
        'intermediates': {k: tensor_json(v) for k, v in inter.items()},
        'losses': single['losses'],
        'grads': {loss: trainable_map(single['grads'][loss]) for loss in LOSS_NAMES},
        'adam_state_after_step': {
            't': agent1.adam_t,
            'm': trainable_map(agent1.adam_m),
            'v': trainable_map(agent1.adam_v),
        },
        'params_after_step': {n: tensor_json(after1[n]) for n in param_names},
        'multi_step': {
            'num_steps': len(batches),
            'batches': [{k: tensor_json(v) for k, v in b.items()} for b in batches],
            'noises': [{k: tensor_json(v) for k, v in n.items()} for n in noises],
            'losses_per_step': multi_losses,
            'params_after': {n: tensor_json(after_multi[n]) for n in param_names},
            'adam_state_after': {
                't': multi_agent.adam_t,
                'm': trainable_map(multi_agent.adam_m),
                'v': trainable_map(multi_agent.adam_v),
            },
        },
        'float32_reference': {
            'note': 'same computation in float32 (PyTorch); deviations from the float64 values indicate the '
                    'tolerance to expect from a float32 implementation',
            'losses': single32['losses'],
            'max_abs_dev_losses': max(abs(single32['losses'][k] - single['losses'][k]) for k in LOSS_NAMES),
            'max_abs_dev_grads_total_loss': max_abs_dev(single32['grads']['total_loss'], single['grads']['total_loss']),
            'max_abs_dev_params_after_step': max_abs_dev(
                named_values(single32['agent'], all_modules).values(), after1.values()),
            'max_abs_dev_params_after_multi_step': max_abs_dev(
                named_values(multi32, all_modules).values(), after_multi.values()),
        },
        'coverage': coverage,
    }
    for name, value in (('losses', dump['losses']),):
        for k, v in value.items():
            if not math.isfinite(v):
                sys.exit(f'{name}.{k} is not finite: {v}')
    with open(a.out, 'w') as f:
        json.dump(dump, f, indent=1)
        f.write('\n')
    size = os.path.getsize(a.out)
    print(f'wrote {a.out} ({size} bytes); losses {dump["losses"]}; coverage {coverage}; '
          f'float32 max dev: losses {dump["float32_reference"]["max_abs_dev_losses"]:.2e}, '
          f'grads {dump["float32_reference"]["max_abs_dev_grads_total_loss"]:.2e}')
    if a.check_against:
        ok = compare_dumps(dump, json.load(open(a.check_against)))
        if not ok:
            sys.exit(1)


# ------------------------------------------------------------------------------------------------

def compare_dumps(ours, theirs, tolerance=1e-10):
    """Same keys everywhere (descriptive strings aside) and numbers within `tolerance` relative to each tensor."""
    problems, worst = [], [0.0, '']
    free_text = {'description', 'generator', 'note'}

    def walk(x, y, path):
        if isinstance(x, dict) and isinstance(y, dict):
            if list(x.keys()) != list(y.keys()):
                problems.append(f'{path}: keys {list(x.keys())} != {list(y.keys())}')
            if set(x) == {'shape', 'data'} and set(y) == {'shape', 'data'}:
                if x['shape'] != y['shape']:
                    problems.append(f'{path}: shape {x["shape"]} != {y["shape"]}')
                    return
                scale = max([1e-6] + [abs(v) for v in y['data']])
                dev = max([0.0] + [abs(u - v) for u, v in zip(x['data'], y['data'])]) / scale
                record(dev, path)
                return
            for k in x:
                if k in y and k not in free_text:
                    walk(x[k], y[k], f'{path}.{k}' if path else k)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                problems.append(f'{path}: {len(x)} items != {len(y)}')
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f'{path}[{i}]')
        elif isinstance(x, bool) or isinstance(y, bool) or isinstance(x, str) or isinstance(y, str):
            if x != y:
                problems.append(f'{path}: {x!r} != {y!r}')
        elif isinstance(x, (int, float)) and isinstance(y, (int, float)):
            if path.startswith('float32_reference'):
                # float32 results depend on BLAS summation order: compare loosely
                if abs(x - y) > 1e-5 * max(1.0, abs(y)) and 'max_abs_dev' not in path:
                    problems.append(f'{path}: {x} vs {y}')
                return
            record(abs(x - y) / max(1e-6, abs(y)), path)
        else:
            problems.append(f'{path}: {type(x).__name__} vs {type(y).__name__}')

    def record(dev, path):
        if dev > worst[0]:
            worst[0], worst[1] = dev, path
        if dev > tolerance:
            problems.append(f'{path}: relative deviation {dev:.3e}')

    walk(ours, theirs, '')
    for p in problems[:40]:
        print('  MISMATCH', p)
    print(f'compared with the other dump: {len(problems)} problems; largest relative deviation '
          f'{worst[0]:.3e} at {worst[1] or "-"}')
    return not problems


if __name__ == '__main__':
    main()
