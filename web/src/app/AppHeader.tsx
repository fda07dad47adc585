import { Link } from '../ui/Link.tsx';
import { routePaths } from './router.ts';
import './AppHeader.css';

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect x="3" y="16" width="7" height="13" rx="2" />
      <rect x="12.5" y="6" width="7" height="23" rx="2" />
      <rect x="22" y="12" width="7" height="17" rx="2" />
    </svg>
  );
}

interface AppHeaderProps {
  /** Whether this tab is in admin mode. */
  admin: boolean;
  onEnterAdmin: () => void;
  onLeaveAdmin: () => void;
}

/** The app's name, linking home, and the way into admin mode or out of it. */
export function AppHeader({ admin, onEnterAdmin, onLeaveAdmin }: AppHeaderProps) {
  return (
    <header className="app-header">
      <Link className="brand" to={routePaths.boards()}>
        <Logo />
        <span>Leaderboards</span>
      </Link>
      <div className="admin-status">
        {admin ? (
          <>
            <span className="admin-badge" data-testid="admin-badge">
              Admin
            </span>
            <button type="button" className="button quiet small" onClick={onLeaveAdmin}>
              Leave admin
            </button>
          </>
        ) : (
          <button type="button" className="button quiet small" onClick={onEnterAdmin}>
            Admin
          </button>
        )}
      </div>
    </header>
  );
}
