package org.minifaas.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CgroupsTest {

    @Test
    void ownGroupsAreReadPerControllerAndForTheUnifiedHierarchy() {
        Map<String, String> paths = Cgroups.ownPaths(List.of(
                "12:pids:/a",
                "4:memory:/process_api/x",
                "1:cpu,cpuacct:/b",
                "1:name=systemd:/s",
                "0::/user.slice/session-1.scope"));
        assertEquals("/a", paths.get("pids"));
        assertEquals("/process_api/x", paths.get("memory"));
        assertEquals("/b", paths.get("cpu"));
        assertEquals("/b", paths.get("cpuacct"));
        assertEquals("/user.slice/session-1.scope", paths.get(""));
    }

    @Test
    void outOfMemoryKillsAreCountedFromV1AndV2Files() {
        assertEquals(3, Cgroups.oomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"));
        assertEquals(1, Cgroups.oomKillCount("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n"));
        assertEquals(0, Cgroups.oomKillCount(""));
    }
}
