"""berth_runtime.script_name and the direct HTTP path's use of it (path_and_script): the
mountpoint split the workers make, which the master's script-name.ts makes too (the shared
cases are test/fixtures/conformance/script-name.json)."""

import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'python'))

from berth_runtime.http_direct_request import path_and_script  # noqa: E402
from berth_runtime.script_name import mount_prefixes, split_script_name  # noqa: E402


class MountPrefixesTest(unittest.TestCase):
    def test_longest_match_first_and_a_trailing_slash_kept_for_script_name(self):
        self.assertEqual(mount_prefixes(['/a', '/a/b/', '/c']), [('/a/b', '/a/b/'), ('/a', '/a'), ('/c', '/c')])

    def test_a_repeated_mountpoint_counts_once(self):
        self.assertEqual(mount_prefixes(['/a', '/a']), [('/a', '/a')])

    def test_ties_keep_the_order_written(self):
        self.assertEqual(mount_prefixes(['/a/', '/a']), [('/a', '/a/'), ('/a', '/a')])


class SplitTest(unittest.TestCase):
    def test_script_name_plus_path_info_is_the_path_below_a_slash_mountpoint(self):
        prefixes = mount_prefixes(['/footris/'])
        for path in ('/footris/', '/footris/resource', '/footris/a/b'):
            script_name, path_info = split_script_name(path, prefixes)
            self.assertEqual((script_name, script_name + path_info), ('/footris/', path))

    def test_the_bare_mountpoint_gets_the_slash_mountpoint_and_an_empty_path_info(self):
        self.assertEqual(split_script_name('/footris', mount_prefixes(['/footris/'])), ('/footris/', ''))


class PathAndScriptTest(unittest.TestCase):
    def test_the_decoded_path_is_split(self):
        prefixes = mount_prefixes(['/foo', '/foobis/'])
        self.assertEqual(path_and_script('/foobis/a%20b', prefixes), ('a b', '/foobis/'))
        self.assertEqual(path_and_script('/foo/x', prefixes), ('/x', '/foo'))
        self.assertEqual(path_and_script('/foobisis/', prefixes), ('/foobisis/', ''))

    def test_without_mountpoints_the_path_is_path_info(self):
        self.assertEqual(path_and_script('/x%2Fy', []), ('/x/y', ''))

    def test_a_nul_is_refused(self):
        self.assertIsNone(path_and_script('/foo/%00', mount_prefixes(['/foo'])))


if __name__ == '__main__':
    unittest.main()
