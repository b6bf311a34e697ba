import { useEffect, useRef, useState } from 'preact/hooks';

export type Ask = {
  title: string;
  confirm?: string;
  danger?: boolean;
  run: (reason: string) => Promise<void>;
};

/** A modal asking for the required reason (and, for kill, an explicit confirmation). */
export function ReasonDialog({ ask, onClose }: { ask: Ask | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (ask && !d.open) {
      setReason('');
      setConfirmed(false);
      setError(null);
      d.showModal();
    } else if (!ask && d.open) d.close();
  }, [ask]);
  if (!ask) return <dialog ref={ref} />;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) return setError('a reason is required');
    if (ask.confirm && !confirmed) return setError('confirm first');
    setBusy(true);
    try {
      await ask.run(reason.trim());
      onClose();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog
      ref={ref}
      aria-labelledby="dlg-title"
      onClose={onClose}
      class={ask.danger ? 'danger' : ''}
    >
      <form onSubmit={submit}>
        <h2 id="dlg-title">{ask.title}</h2>
        <label>
          Reason (recorded in the audit log)
          <textarea
            name="reason"
            required
            rows={3}
            value={reason}
            onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
            autoFocus
          />
        </label>
        {ask.confirm && (
          <label class="check">
            <input
              type="checkbox"
              name="confirm"
              checked={confirmed}
              onChange={(e) => setConfirmed((e.target as HTMLInputElement).checked)}
            />{' '}
            {ask.confirm}
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={ask.danger ? 'btn-danger' : 'btn-primary'} disabled={busy}>
            {ask.title}
          </button>
        </div>
      </form>
    </dialog>
  );
}
