using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Conformance.Mediator.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster for the PostgreSQL backend's tests: <c>initdb</c> into a temporary folder (as the
/// <c>postgres</c> user when running as root, since the server refuses root), <c>pg_ctl start</c> on a free loopback
/// port, trust authentication, stopped and deleted at the end of the run. When PostgreSQL is not installed the tests
/// that need it are ignored with the reason.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    private static readonly Lazy<(string? ConnectionString, string? Why)> Server = new(Start);
    private static string? _dir;

    /// <summary>A connection string to a fresh, empty database; or the test is ignored when there is no server.</summary>
    public static string NewDatabase()
    {
        var (cs, why) = Server.Value;
        if (cs is null) Assert.Ignore("PostgreSQL is not available: " + why);
        var name = "t" + Guid.NewGuid().ToString("N")[..16];
        using (var c = new NpgsqlConnection(cs))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(cs) { Database = name }.ConnectionString;
    }

    private static string? Bin()
    {
        foreach (var d in Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().ToArray() : [])
            if (File.Exists(Path.Combine(d, "bin", "initdb"))) return Path.Combine(d, "bin");
        return null;
    }

    private static (int Code, string Output) Run(string exe, IEnumerable<string> args, bool asPostgres)
    {
        var root = Environment.UserName == "root";
        var psi = new ProcessStartInfo(asPostgres && root ? "runuser" : exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && root) { psi.ArgumentList.Add("-u"); psi.ArgumentList.Add("postgres"); psi.ArgumentList.Add("--"); psi.ArgumentList.Add(exe); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(); return (-1, "timed out"); }
        return (p.ExitCode, output.Result + error.Result);
    }

    private static (string?, string?) Start()
    {
        try
        {
            var bin = Bin();
            if (bin is null) return (null, "no initdb under /usr/lib/postgresql");
            _dir = Directory.CreateTempSubdirectory("mediator-pg-").FullName;
            if (Environment.UserName == "root" && Run("chown", ["postgres", _dir], false).Code != 0) return (null, "cannot hand the data folder to the postgres user");
            var data = Path.Combine(_dir, "data");
            var (code, output) = Run(Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], true);
            if (code != 0) return (null, "initdb failed: " + output.ReplaceLineEndings(" "));
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            (code, output) = Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-w", "-l", Path.Combine(_dir, "log"),
                "-o", $"-p {port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=on", "start"], true);
            if (code != 0) return (null, "pg_ctl start failed: " + output.ReplaceLineEndings(" "));
            return ($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true", null);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (null, e.Message);
        }
    }

    [OneTimeTearDown]
    public void Stop()
    {
        if (!Server.IsValueCreated || _dir is null) return;
        NpgsqlConnection.ClearAllPools();
        if (Server.Value.ConnectionString is not null && Bin() is { } bin)
            Run(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "fast", "stop"], true);
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
