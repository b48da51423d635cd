// The words for a transfer's state, with its reason.
import type { TransferDto } from '../../ipc';
import { formatDuration } from '../../format';

export function stateText(j: TransferDto, now: number): string {
  // waits count down in whole minutes, rounded up like the banner's clock
  const left = j.until !== null ? Math.max(0, j.until - now) : null;
  const wait = left !== null && left >= 60 ? Math.ceil(Math.floor(left) / 60) * 60 : left;
  switch (j.state) {
    case 'active':
      return j.direction === 'download' ? 'Downloading' : 'Uploading';
    case 'queued':
      return 'Queued';
    case 'paused':
      return 'Paused';
    case 'waiting':
      return `Waiting for transfer quota${wait !== null ? `: ${formatDuration(wait)}` : ''}`;
    case 'retrying':
      return `Retrying: ${reasonText(j) ?? 'temporary error'}${left ? ` in ${formatDuration(left)}` : ''}`;
    case 'failed':
      return `Failed: ${reasonText(j) ?? 'error'}`;
    case 'done':
      return 'Done';
    case 'cancelled':
      return 'Cancelled';
  }
}

/** The reason, with the error kind's name where the engine gave no sentence. */
function reasonText(j: TransferDto): string | null {
  if (j.reason) return j.reason.replace(/; retrying$/i, '');
  switch (j.errorKind) {
    case 'crypto':
      return 'MAC mismatch';
    case 'network':
      return 'network error';
    case 'io':
      return 'cannot write the file';
    case 'quota':
      return 'over quota';
    case 'notFound':
      return 'the file is gone';
    default:
      return j.errorKind;
  }
}
