package org.minifaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class GoModuleTest {

    @Test
    void replaceTargetsAreReadFromLinesAndBlocks() {
        String goMod = """
                module example.com/fn

                go 1.19

                replace example.com/a => ../a
                replace example.com/b v1.2.3 => example.com/c v1.0.0 // comment
                replace (
                \texample.com/d => /abs/d
                \t// example.com/e => ../commented
                \texample.com/f v0.1.0 => "./f"
                )
                require example.com/g v1.0.0
                """;
        assertEquals(List.of("../a", "example.com/c", "/abs/d", "./f"), GoModule.replaceTargets(goMod));
    }
}
