package org.minifaas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code minifaas}: the command line client of API v1 (docs/CLI.md). */
@Command(
        name = "minifaas",
        mixinStandardHelpOptions = true,
        version = "minifaas 0.1.0",
        description = "Run functions on MiniFaaS and follow them from a terminal.",
        subcommands = {
            RunCommand.class,
            StatusCommand.class,
            ListCommand.class,
            LogsCommand.class,
            ResultCommand.class,
            CancelCommand.class,
            AdminCommand.class,
            CompletionCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Server and identity: --server/MINIFAAS_URL, --cookie/MINIFAAS_COOKIE, --cookie-file/"
                    + "MINIFAAS_COOKIE_FILE, --user/MINIFAAS_USER, --email/MINIFAAS_EMAIL (on every command).",
            "Exit codes: 0 ok, 1 task failed without an exit code, N the function's exit code, 2 usage, "
                    + "3 unexpected error, 4 cancelled, 5 server or network error, 130 Ctrl-C."
        })
public final class Main implements Runnable {
    @Spec
    CommandSpec spec;

    final Map<String, String> env;
    /** A real process: Ctrl-C while following prints how to follow again (a shutdown hook). */
    final boolean realProcess;

    Main(Map<String, String> env, boolean realProcess) {
        this.env = env;
        this.realProcess = realProcess;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(),
                "Missing command: run, status, list, logs, " + "result, cancel, admin or completion");
    }

    /** The whole command line, writing to {@code out}/{@code err}, with {@code env} in place of the environment. */
    public static CommandLine commandLine(
            Map<String, String> env, PrintWriter out, PrintWriter err, boolean realProcess) {
        CommandLine cl = new CommandLine(new Main(env, realProcess));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("minifaas: " + oneLine(e));
            commandLine.getErr().flush();
            return ExitCodes.SERVER_ERROR;
        });
        return cl;
    }

    static String oneLine(Exception e) {
        if (e instanceof ApiException) {
            return e.getMessage();
        }
        if (e instanceof IOException) {
            return "I/O error: " + e.getMessage();
        }
        return "internal error: " + e;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(System.getenv(), out, err, true).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
