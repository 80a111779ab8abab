// The viewer page: /jobs/{id}?token=… tails one job.
import { tailJob } from './job-view.js';

const $ = (id) => document.getElementById(id);
const jobId = decodeURIComponent(location.pathname.split('/').pop());
const token = new URLSearchParams(location.search).get('token') ?? '';
$('job-id').textContent = jobId;
tailJob({
  jobId,
  token,
  ui: { status: $('status'), connection: $('connection'), text: $('output'), ttft: $('ttft'),
        tps: $('tps'), tokens: $('tokens'), viewers: $('viewers'), notice: $('notice') },
});
