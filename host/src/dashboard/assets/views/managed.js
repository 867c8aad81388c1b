// Jobs declared in a jobs file (`managed_by`: the file's path): their spec changes only in
// that file, so the dashboard marks them, shows their spec read-only and offers no delete.
// Pause, resume and trigger stay available.

import { h } from '../dom.js';

/** The mark of a job declared in a jobs file (its path in the title), or null. */
export function managedMark(job) {
  if (!job.managed_by) return null;
  return h('span', { class: 'tag tag-managed', 'data-field': 'managed', title: `Managed by ${job.managed_by}: change it in that file`, text: 'from file' });
}

/** Why the spec of a job from a jobs file is read-only here, and what stays available. */
export function managedNote(job) {
  return h('p', { class: 'managed-note', id: 'managed-note', 'data-managed-by': job.managed_by },
    h('strong', { text: 'Managed by ' }), h('code', { text: job.managed_by }), '. ',
    'This job\'s spec is read-only here because it comes from that file: edit the file to change or remove it. ',
    'Pause, resume and trigger stay available.');
}
