// The login view, shown whenever the hub answers 401 (api.ts raises "auth required"). A form
// whose submit is handled here (the page's CSP has form-action 'none': nothing is ever posted
// by the browser itself), user prefilled with `admin`, the password `edgewatch start` printed.
import { getSession, login } from './api.js';
import { h, setText } from './dom.js';

export interface LoginPageOptions {
  /** Called once the hub accepted the login and the browser keeps the session. */
  onLoggedIn: (user: string) => void;
  /** Shown above the form, e.g. after a logout. */
  notice?: string;
}

/** What the user reads for a failed login, by HTTP status (0: the hub could not be reached). */
export function loginErrorText(status: number, message: string): string {
  if (status === 401) return 'wrong user or password';
  if (status === 429) return 'too many attempts, wait a moment';
  if (status === 0) return `cannot reach the hub: ${message}`;
  return `login failed: ${message}`;
}

export class LoginPage {
  readonly el: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly user: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly submit: HTMLButtonElement;
  private readonly error: HTMLElement;
  private busy = false;
  private destroyed = false;

  constructor(private readonly opts: LoginPageOptions) {
    this.user = h('input', {
      class: 'field-input',
      attrs: { id: 'login-user', name: 'user', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true },
    });
    this.user.value = 'admin';
    this.password = h('input', {
      class: 'field-input',
      attrs: { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true },
    });
    this.submit = h('button', { class: 'btn btn-primary login-submit', attrs: { type: 'submit' }, text: 'Log in' });
    this.error = h('p', { class: 'login-error', data: { login: 'error' }, attrs: { role: 'alert', hidden: true } });
    this.form = h(
      'form',
      { class: 'login-card', attrs: { 'aria-labelledby': 'login-title', method: 'post' } },
      h('h1', { attrs: { id: 'login-title' }, text: 'Log in' }),
      h(
        'p',
        { class: 'login-hint muted' },
        'This hub needs a login. ',
        h('code', { text: 'edgewatch start' }),
        ' printed the password the first time it started.',
      ),
      opts.notice ? h('p', { class: 'login-notice', data: { login: 'notice' }, text: opts.notice }) : null,
      h('label', { class: 'field', attrs: { for: 'login-user' } }, h('span', { class: 'field-label', text: 'User' }), this.user),
      h('label', { class: 'field', attrs: { for: 'login-password' } }, h('span', { class: 'field-label', text: 'Password' }), this.password),
      this.error,
      this.submit,
    );
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.send();
    });
    this.el = h('section', { class: 'login-page', data: { page: 'login' } }, this.form);
  }

  mount(): void {
    document.title = 'Log in · edgewatch';
    (this.user.value ? this.password : this.user).focus();
  }

  destroy(): void {
    this.destroyed = true;
  }

  private showError(text: string | null): void {
    this.error.hidden = text === null;
    setText(this.error, text ?? '');
    if (text === null) this.password.removeAttribute('aria-invalid');
    else this.password.setAttribute('aria-invalid', 'true');
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    this.submit.disabled = busy;
    setText(this.submit, busy ? 'Logging in…' : 'Log in');
    if (busy) this.form.setAttribute('aria-busy', 'true');
    else this.form.removeAttribute('aria-busy');
  }

  private async send(): Promise<void> {
    if (this.busy) return;
    const user = this.user.value.trim();
    const password = this.password.value;
    if (!user || !password) {
      this.showError(user ? 'enter the password' : 'enter the user');
      (user ? this.password : this.user).focus();
      return;
    }
    this.setBusy(true);
    this.showError(null);
    const res = await login(user, password);
    if (this.destroyed) return;
    if (!res.ok) {
      this.setBusy(false);
      this.showError(loginErrorText(res.status, res.message));
      this.password.select();
      this.password.focus();
      return;
    }
    // The hub said yes; make sure the browser kept the cookie, or every call would 401 again.
    const session = await getSession();
    if (this.destroyed) return;
    this.setBusy(false);
    if (session.auth === 'required') {
      this.showError('the hub accepted the login but the browser did not keep the session cookie');
      return;
    }
    this.password.value = '';
    this.opts.onLoggedIn(session.auth === 'user' ? session.user : user);
  }
}
