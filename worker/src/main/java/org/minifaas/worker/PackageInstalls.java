package org.minifaas.worker;

import org.minifaas.common.net.AddressPolicy;

/**
 * What the runtimes that install packages (Node.js, Python) share: the sandboxed step their installs run as (a
 * clone's account and network), the cache of installed trees, whether install scripts may run (not on the host's
 * network with private addresses refused), and the address policy the URLs an install names are checked against
 * when they may not.
 */
record PackageInstalls(BuildStep step, DependencyCache cache, boolean scriptsAllowed, AddressPolicy policy) {}
