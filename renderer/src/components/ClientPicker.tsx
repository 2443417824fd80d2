// The "Client" select shared by views that show one client or all of them
// (Page caches, Total order). Renders a label and a select; the caller lays them out.
import { useId } from 'react';

export function ClientPicker({ clientIds, value, onChange, testId }: { clientIds: readonly string[]; value: string; onChange: (id: string) => void; testId: string }) {
  const selectId = useId();
  return (
    <>
      <label htmlFor={selectId}>Client</label>
      <select id={selectId} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="all">All clients</option>
        {clientIds.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
    </>
  );
}
