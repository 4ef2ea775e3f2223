//! The link walk's root-only scenarios (`install::links::root_scenarios`): a directory on the
//! way swapped for a symlink after the walk, and relative symlink targets walked from the
//! held directories.

use crate::ns_test;
use sops_install::install::links::root_scenarios;

ns_test! {
    fn a_directory_swapped_for_a_symlink_after_the_walk_cannot_redirect_the_link() {
        root_scenarios::a_directory_swapped_for_a_symlink_after_the_walk_cannot_redirect_the_link();
    }

    fn relative_symlink_targets_are_walked_from_the_held_directories() {
        root_scenarios::relative_symlink_targets_are_walked_from_the_held_directories();
    }
}
