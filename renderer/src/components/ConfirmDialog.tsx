// A modal confirm on the native <dialog>: focus moves into it and is trapped there,
// Escape cancels, and the page behind is inert. role="alertdialog" with its question
// as the accessible name, so a screen reader announces what is being asked.
import { useEffect, useId, useRef } from 'react';

export interface ConfirmDialogProps {
  open: boolean;
  /** The question, e.g. "Stop the running cluster and run s1?" */
  question: string;
  detail?: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
}

export function ConfirmDialog({ open, question, detail, confirmLabel, onConfirm, onCancel, testId }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const detailId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      role="alertdialog"
      className="confirm"
      aria-labelledby={titleId}
      aria-describedby={detail ? detailId : undefined}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault(); // Escape: let React state close it
        onCancel();
      }}
    >
      <h2 id={titleId}>{question}</h2>
      {detail && (
        <p id={detailId} className="muted">
          {detail}
        </p>
      )}
      <div className="button-row">
        <button type="button" className="primary" onClick={onConfirm} autoFocus>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
