// A scenario result's slowest fault (write-update: write) of each trial as a message
// diagram, with the longest wait between two of its events named in words: "why was
// this one 40 ms?" Shown when the run traced its frames (the form's checkbox).
import { useState } from 'react';
import type { ScenarioResult, SlowestFault } from '../../../nodes/control/api.js';
import { longestWait } from '../../../nodes/control/scenarios/slowest.js';
import { SpaceTime } from '../components/SpaceTime.js';
import { fmtMs } from '../format.js';

export function SlowestFaults({ result, resultKey }: { result: ScenarioResult; resultKey: string }) {
  const list = result.slowest ?? [];
  const worst = list.reduce<SlowestFault | null>((a, b) => (a === null || b.ms > a.ms ? b : a), null);
  const [trial, setTrial] = useState(worst?.trial ?? 1);
  const shown = list.find((x) => x.trial === trial) ?? worst;
  if (!shown) return null;
  const what = result.measures === 'writes' ? 'write' : 'fault';
  const wait = longestWait(shown);
  return (
    <section className="slowest" data-testid={`scenario-${resultKey}-slowest`}>
      <h4>Slowest {what} of each trial</h4>
      <div className="segmented" role="radiogroup" aria-label="Trial">
        {list.map((x) => (
          <button
            key={x.trial}
            type="button"
            role="radio"
            aria-checked={x.trial === shown.trial}
            className={x.trial === shown.trial ? 'on' : undefined}
            onClick={() => setTrial(x.trial)}
            data-testid={`scenario-${resultKey}-slowest-trial-${x.trial}`}
          >
            Trial {x.trial} · {fmtMs(x.ms)} ms
          </button>
        ))}
      </div>
      <p className="small" data-testid={`scenario-${resultKey}-slowest-summary`}>
        {shown.client} {shown.kind} of page {shown.page}: {fmtMs(shown.ms)} ms, {shown.frames.length} frames
        {shown.moreFrames > 0 ? ` (${shown.moreFrames} later ones not drawn)` : ''}.
        {wait && wait.toUs - wait.fromUs > 0 && (
          <>
            {' '}
            Longest wait: <strong>{fmtMs((wait.toUs - wait.fromUs) / 1000)} ms</strong>, after {wait.after} (+{fmtMs(wait.fromUs / 1000)} ms), until {wait.before} (+
            {fmtMs(wait.toUs / 1000)} ms).
          </>
        )}
      </p>
      <div className="space-time-scroll">
        <SpaceTime
          frames={shown.frames}
          endUs={shown.ms * 1000}
          label={`Frames of ${shown.client}'s ${shown.kind} of page ${shown.page} in trial ${shown.trial}, ${fmtMs(shown.ms)} ms`}
          testId={`scenario-${resultKey}-slowest-diagram`}
        />
      </div>
    </section>
  );
}
