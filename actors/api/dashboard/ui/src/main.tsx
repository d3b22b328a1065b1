/**
 * The dashboard: a login form (Keystone password auth, project-scoped), then the pages, chosen by
 * the URL's hash (`#/hosts/<name>`, `#/instances/<id>`…). Admins see the fleet and its hosts; members
 * see their project's instances and the images they may use (the APIs scope what they answer).
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, login, type Session } from './api';
import { EventFeed } from './events';
import { HostDetail, Hosts } from './hosts';
import { Images } from './images';
import { InstanceDetail, Instances } from './instances';
import { Overview } from './overview';
import { useCloud } from './store';
import { Failure, useAction } from './widgets';
import './style.css';

function Login({ done }: { done: (s: Session) => void }) {
  const { busy, error, run } = useAction();
  const submit = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    void run(async () => done(await login(String(f.get('user')), String(f.get('password')), String(f.get('project')))));
  };
  return (
    <form class="login" onSubmit={submit} aria-label="log in">
      <h1>novact</h1>
      <label>User <input name="user" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <label>Project <input name="project" required /></label>
      <button type="submit" disabled={busy}>Log in</button>
      <Failure message={error} />
    </form>
  );
}

const useHash = () => {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
};

function Console({ session, logout }: { session: Session; logout: () => void }) {
  const api = useMemo(() => new Api(session), [session]);
  const cloud = useCloud(api);
  const [page = 'overview', arg] = useHash();
  const pages: [string, string, boolean][] = [['overview', 'Overview', true], ['hosts', 'Hosts', session.admin], ['instances', 'Instances', true], ['images', 'Images', true], ['events', 'Events', true]];
  const shown = pages.filter(([, , ok]) => ok);
  const current = shown.some(([p]) => p === page) ? page : 'overview';
  return (
    <div class="console">
      <header>
        <span class="brand">novact</span>
        <nav>{shown.map(([p, label]) => <a href={`#/${p}`} class={p === current ? 'on' : ''} key={p} data-nav={p}>{label}</a>)}</nav>
        <span class="who" data-testid="who">{session.user} @ {session.projectName}{session.admin ? ' (admin)' : ''}</span>
        <button class="link" onClick={logout}>Log out</button>
      </header>
      <Failure message={cloud.error} />
      <main>
        <div class="page">
          {current === 'overview' && <Overview cloud={cloud} admin={session.admin} />}
          {current === 'hosts' && (arg ? <HostDetail api={api} cloud={cloud} host={arg} /> : <Hosts api={api} cloud={cloud} />)}
          {current === 'instances' && (arg ? <InstanceDetail api={api} cloud={cloud} id={arg} /> : <Instances api={api} cloud={cloud} admin={session.admin} />)}
          {current === 'images' && <Images cloud={cloud} />}
          {current === 'events' && <EventFeed cloud={cloud} />}
        </div>
        {current !== 'events' && <aside><EventFeed cloud={cloud} compact /></aside>}
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  if (!session) return <Login done={setSession} />;
  const logout = () => {
    void fetch('/v3/auth/tokens', { method: 'DELETE', headers: { 'X-Auth-Token': session.token, 'X-Subject-Token': session.token } });
    setSession(undefined);
  };
  return <Console session={session} logout={logout} />;
}

render(<App />, document.getElementById('app')!);
