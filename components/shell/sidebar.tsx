'use client';
// The sidebar: the pages this role may open, who is signed in, and sign-out. On a phone (below 768 px) it is a bar
// across the top with a Menu button, so the page keeps the whole width of the screen; the menu closes on navigation.
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { signOut } from 'next-auth/react';
import { hasRole, type Role } from '@/lib/auth/roles';
import { navItems } from './nav-items';

export function Sidebar({ user }: { user: { name: string; email: string; role: Role } }) {
  const pathname = usePathname();
  const items = navItems.filter((i) => hasRole(user.role, i.role));
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [pathname]);
  return (
    <aside className="flex w-full shrink-0 flex-col border-b border-slate-800 bg-slate-900 text-slate-100 md:w-56 md:border-b-0 md:border-r">
      <div className="flex items-center gap-2 px-4 py-3 md:px-5 md:py-5">
        <svg viewBox="0 0 32 32" className="h-7 w-7" aria-hidden>
          <circle cx="16" cy="16" r="12" fill="none" stroke="#e2e8f0" strokeWidth="5" />
          <circle cx="16" cy="16" r="12" fill="none" stroke="#f43f5e" strokeWidth="5" strokeDasharray="9.4 9.4" />
        </svg>
        <span className="text-lg font-semibold tracking-tight">Lifeboat</span>
        <button
          type="button"
          onClick={() => setOpen((o) => !o)}
          aria-expanded={open}
          aria-controls="main-menu"
          className="ml-auto rounded-md border border-slate-600 px-3 py-1.5 text-sm text-slate-100 md:hidden"
        >
          {open ? 'Close' : 'Menu'}
        </button>
      </div>
      <div id="main-menu" data-testid="main-menu" className={`${open ? 'flex' : 'hidden'} flex-1 flex-col pb-2 md:flex md:pb-0`}>
        <nav aria-label="Main" className="flex-1 px-3">
          <ul className="space-y-1">
            {items.map((item) => {
              const active = item.href === '/' ? pathname === '/' : pathname.startsWith(item.href);
              return (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active ? 'page' : undefined}
                    className={`block rounded-md px-3 py-2 text-sm ${active ? 'bg-slate-700 font-medium text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white'}`}
                  >
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="border-t border-slate-800 px-5 py-4 text-sm">
          <p className="truncate font-medium" title={user.email}>{user.name}</p>
          <p className="truncate text-xs text-slate-400">{user.email}</p>
          <p className="mt-1 text-xs uppercase tracking-wide text-sky-300" data-testid="current-role">{user.role}</p>
          <button onClick={() => signOut({ callbackUrl: '/login' })} className="mt-3 text-xs text-slate-300 underline hover:text-white">
            Sign out
          </button>
        </div>
      </div>
    </aside>
  );
}
