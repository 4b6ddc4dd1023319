// Container ids and names. Ids are 64 hex characters; names default to "adjective_noun", the
// shape Docker's generator gives, and must match Docker's pattern.
import { randomBytes } from 'node:crypto';
import { InvalidArgument } from '../lib/errors.js';

const ADJECTIVES = [
  'brave', 'calm', 'clever', 'eager', 'fervent', 'gentle', 'happy', 'jolly', 'keen', 'lucid',
  'merry', 'nimble', 'patient', 'quiet', 'quirky', 'serene', 'sharp', 'steady', 'sturdy', 'swift',
  'tender', 'trusty', 'vivid', 'wise', 'zealous', 'bold', 'bright', 'crisp', 'daring', 'festive',
];
const NOUNS = [
  'anchor', 'barge', 'beacon', 'bollard', 'buoy', 'capstan', 'cutter', 'dinghy', 'dock', 'ferry',
  'galley', 'harbor', 'hull', 'jetty', 'keel', 'lighthouse', 'mast', 'mooring', 'pier', 'quay',
  'rudder', 'schooner', 'sextant', 'skiff', 'sloop', 'tender', 'tug', 'wharf', 'windlass', 'yawl',
];

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const [a, n, d] = randomBytes(3);
    const name = `${ADJECTIVES[a! % ADJECTIVES.length]}_${NOUNS[n! % NOUNS.length]}` + (i > 5 ? String(d) : '');
    if (!taken(name)) return name;
  }
  return `berth_${randomBytes(4).toString('hex')}`;
}

/** Docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is accepted and dropped). */
export function validateName(input: string): string {
  const name = input.startsWith('/') ? input.slice(1) : input;
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) {
    throw new InvalidArgument(`invalid container name "${input}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name;
}
