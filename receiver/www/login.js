// login.js - the sign-in form: POST /api/login, then go to the dashboard.
'use strict';
document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = document.getElementById('error');
  const button = document.getElementById('submit');
  err.hidden = true;
  button.disabled = true;
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({
        user: document.getElementById('user').value,
        password: document.getElementById('password').value,
      }),
    });
    if (res.ok) {
      window.location.assign('/');
      return;
    }
    err.textContent = res.status === 429
      ? 'Too many failed attempts. Wait a few minutes, then try again.'
      : res.status === 401 ? 'Wrong user name or password.'
      : 'The server could not sign you in (HTTP ' + res.status + ').';
  } catch (e) {
    err.textContent = 'Cannot reach the server.';
  }
  err.hidden = false;
  button.disabled = false;
});
