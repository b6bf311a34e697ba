import { ActionHandler } from '../action-handler.js';
import { PayloadReader, result } from '../payload.js';

type Noop = { note?: string };

/**
 * NOOP: does nothing, in either mode. For drills and benchmarks: it still goes
 * through enqueue, claim, fencing, the event log and the projections, so it
 * measures the control plane itself.
 */
export const noopHandler: ActionHandler<Noop> = {
  type: 'NOOP',
  idempotent: true,
  validate(payload) {
    const r = new PayloadReader(payload, ['note']);
    const note = r.str('note', { required: false, max: 200 });
    return result(r, () => (note ? { note } : {}));
  },
  render(p) {
    return { transport: 'none', ...p };
  },
  execute() {
    return Promise.resolve({ message: 'no-op' });
  },
};
