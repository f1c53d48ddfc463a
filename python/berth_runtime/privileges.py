"""Privileges: uid, gid and umask resolved and dropped before the app is imported.

Names or numbers; dropped after chdir.  Imported only when one of the options is set."""

import grp
import os
import pwd

from .config import BootFailure


def resolve_user(value):
    """The uid option -> (uid, user name or None, the user's primary gid or None)."""
    text = str(value)
    if text.isdigit():
        uid = int(text)
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            return uid, None, None
        return uid, entry.pw_name, entry.pw_gid
    try:
        entry = pwd.getpwnam(text)
    except KeyError:
        raise BootFailure('privileges', "option 'uid': user %r does not exist (no such entry in the password "
                                        "database); use an existing user name or a numeric uid" % text)
    return entry.pw_uid, entry.pw_name, entry.pw_gid


def resolve_group(value):
    """The gid option -> a gid."""
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise BootFailure('privileges', "option 'gid': group %r does not exist (no such entry in the group "
                                        "database); use an existing group name or a numeric gid" % text)


def _label(kind, value):
    text = str(value)
    return '%s %s' % (kind, text) if text.isdigit() else '%s %r' % (kind, text)


def privilege_plan(cfg):
    """(umask, uid, user name, gid) resolved from the options; None where nothing changes.
    Raises BootFailure('privileges') for unknown names."""
    uid = user = user_gid = None
    if cfg['uid'] is not None:
        uid, user, user_gid = resolve_user(cfg['uid'])
    gid = resolve_group(cfg['gid']) if cfg['gid'] is not None else user_gid
    if uid is not None and gid is None:
        raise BootFailure('privileges', "option 'uid': %s has no password-database entry, so its group is unknown "
                                        "and the worker would keep the group it started with; set 'gid' too"
                          % _label('uid', cfg['uid']))
    return cfg['umask'], uid, user, gid


def drop_privileges(cfg):
    """umask, then gid (setgid + supplementary groups), then uid, as the options say.
    True when the credentials changed (the caller re-arms PR_SET_PDEATHSIG)."""
    umask, uid, user, gid = privilege_plan(cfg)
    if umask is not None:
        os.umask(umask)
    if uid is None and gid is None:
        return False
    who_gid = _label('group', cfg['gid']) if cfg['gid'] is not None else 'group %d (the primary group of %s)' % (
        gid, _label('user', cfg['uid']))
    option = 'gid' if cfg['gid'] is not None else 'uid'
    try:
        os.setgid(gid)
    except OSError as e:
        raise BootFailure('privileges', "option '%s': %s — setgid(%d) failed: %s; start Berth as root, or "
                                        "remove '%s'" % (option, who_gid, gid, e.strerror or e, option))
    if os.geteuid() == 0:
        # Root's supplementary groups (root, disk, ...) must not survive the drop.
        try:
            if uid is not None and user is not None:
                os.initgroups(user, gid)
            else:
                os.setgroups([gid])
        except OSError as e:
            raise BootFailure('privileges', "option '%s': %s — setting the supplementary groups failed: %s"
                              % (option, who_gid, e.strerror or e))
    if uid is not None:
        try:
            os.setuid(uid)
        except OSError as e:
            raise BootFailure('privileges', "option 'uid': %s — setuid(%d) failed: %s; start Berth as root, or "
                                            "remove 'uid'" % (_label('user', cfg['uid']), uid, e.strerror or e))
    return True
