package org.minifaas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ArgumentsTest {
    static Object parse(String... args) {
        CommandLine cl = new CommandLine(new Main(Map.of(), false));
        CommandLine.ParseResult r = cl.parseArgs(args);
        while (r.hasSubcommand()) {
            r = r.subcommand();
        }
        return r.commandSpec().userObject();
    }

    static int exit(StringWriter err, String... args) {
        return Main.commandLine(Map.of(), new PrintWriter(new StringWriter()), new PrintWriter(err), false)
                .execute(args);
    }

    @Test
    void runTakesTheUrlItsArgumentsAndOptionsAnywhere() {
        RunCommand run = (RunCommand) parse(
                "run",
                "--ref",
                "v1",
                "https://g/x.git",
                "a",
                "b c",
                "--timeout",
                "5",
                "-f",
                "--server",
                "http://s:1",
                "--user",
                "alice",
                "--json");
        assertEquals("https://g/x.git", run.url);
        assertEquals(List.of("a", "b c"), run.args);
        assertEquals("v1", run.ref);
        assertEquals(5, run.timeout);
        assertTrue(run.follow);
        assertEquals("http://s:1", run.conn.server);
        assertEquals("alice", run.conn.user);
        assertTrue(run.conn.json);
    }

    @Test
    void argumentsThatLookLikeOptionsGoAfterTheDoubleDash() {
        RunCommand run = (RunCommand) parse("run", "https://g/x.git", "--", "-n", "--ref", "3");
        assertEquals(List.of("-n", "--ref", "3"), run.args);
        assertNull(run.ref);
    }

    @Test
    void otherCommandsParse() {
        assertEquals("id1", ((StatusCommand) parse("status", "id1", "--wait", "30")).id);
        ListCommand list = (ListCommand) parse("list", "--status", "FINISHED", "--limit", "150");
        assertEquals("FINISHED", list.status);
        assertEquals(150, list.limit);
        assertEquals(20, ((ListCommand) parse("list")).limit);
        assertTrue(((LogsCommand) parse("logs", "-f", "id1")).follow);
        assertEquals("d", ((ResultCommand) parse("result", "id1", "-o", "d")).dir.toString());
        assertEquals("id1", ((CancelCommand) parse("cancel", "id1")).id);
        assertEquals("f.json", ((AdminCommand.Inject) parse("admin", "inject", "f.json")).file.toString());
        assertTrue(parse("admin", "status", "--email", "a@b") instanceof AdminCommand.Status);
    }

    @Test
    void usageErrorsExitTwoWithTheReason() {
        StringWriter err = new StringWriter();
        assertEquals(2, exit(err, "run"));
        assertTrue(err.toString().contains("Missing required parameter: 'URL'"), err.toString());
        assertEquals(2, exit(new StringWriter(), "run", "u", "--timeout", "soon"));
        assertEquals(2, exit(new StringWriter(), "status"));
        assertEquals(2, exit(new StringWriter(), "frobnicate"));
        assertEquals(2, exit(new StringWriter()));
        assertEquals(2, exit(new StringWriter(), "admin"));
        assertEquals(2, exit(new StringWriter(), "list", "--limit", "0"));
        assertThrows(CommandLine.UnmatchedArgumentException.class, () -> parse("status", "a", "b"));
    }

    @Test
    void aBadServerIsOneLineAndExitFive() {
        StringWriter err = new StringWriter();
        assertEquals(5, exit(err, "status", "x", "--server", "localhost:4180"));
        assertEquals(
                "minifaas: --server must start with http:// or https://: localhost:4180",
                err.toString().strip());
    }

    @Test
    void theCookieFileMayHoldAValueAPairOrACurlJar() {
        assertEquals("abc", Connection.cookieFromFile("abc\n"));
        assertEquals("_oauth2_proxy=abc", Connection.cookieFromFile("_oauth2_proxy=abc"));
        assertEquals("_oauth2_proxy=v4lue", Connection.cookieFromFile("""
                # Netscape HTTP Cookie File
                # https://curl.se/docs/http-cookies.html

                #HttpOnly_localhost\tFALSE\t/\tFALSE\t0\t_oauth2_proxy_csrf\tzzz
                #HttpOnly_localhost\tFALSE\t/\tTRUE\t1795000000\t_oauth2_proxy\tv4lue
                """));
        assertThrows(ApiException.class, () -> Connection.cookieFromFile("# only a comment\n"));
    }
}
