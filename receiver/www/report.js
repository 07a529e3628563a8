// report.js - the incident report's Print button (no inline scripts: CSP).
'use strict';
document.getElementById('print').addEventListener('click', () => window.print());
