using System.Text.Json.Nodes;

namespace Conformance.Cli.Tests;

/// <summary>
/// `conformance bench handshake`: a tiny in-process run gives real figures in its JSON (every handshake went through
/// OOB, didexchange and trust ping between two Kestrel-hosted agents), and bad options are usage errors.
/// The figures themselves are measured by `./run.sh bench handshake` (README, Performance), not asserted here.
/// </summary>
public class BenchVerbTests
{
    [Test]
    public void A_small_in_process_run_reports_sequential_and_concurrent_figures_as_JSON()
    {
        var r = Cli.Run("bench", "handshake", "--mode", "in-process", "--runs", "2", "--count", "4", "--concurrency", "2", "--startups", "0", "--json");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        var json = r.Json;
        var pair = json["pairs"]!.AsArray().Single()!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(pair["name"]!.GetValue<string>(), Is.EqualTo("in-process reference"));
            Assert.That(pair["transport"]!.GetValue<string>(), Is.EqualTo("http"));
            Assert.That(pair["runs"]!.AsArray(), Has.Count.EqualTo(2));
            Assert.That(pair["sequential"]!["p50_ms"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(pair["sequential"]!["p99_ms"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(pair["sequential"]!["p50_ms"]!.GetValue<double>()));
            Assert.That(pair["concurrent"]!["per_second"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(pair["cpu_ms_per_handshake"]!.GetValue<double>(), Is.GreaterThan(0));
            // Each handshake leaves a connection record on each side, so something is kept per handshake.
            Assert.That(pair["retained_kb_per_handshake"]!.GetValue<double>(), Is.GreaterThan(0));
            Assert.That(json["settings"]!["concurrency"]!.GetValue<int>(), Is.EqualTo(2));
            Assert.That(json["targets"]!["concurrent_per_second"]!.GetValue<double>(), Is.EqualTo(300));
        });
        // Progress and the summary lines go to stderr in JSON mode.
        Assert.That(r.Stderr, Does.Contain("sequential: p50 ").And.Contain("concurrency 2: "));
    }

    [Test]
    public void The_ws_transport_works_too()
    {
        var r = Cli.Run("bench", "handshake", "--mode", "in-process", "--runs", "1", "--count", "3", "--transport", "ws", "--startups", "0", "--json");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Json["pairs"]![0]!["transport"]!.GetValue<string>(), Is.EqualTo("ws"));
    }

    [TestCase("--transport", "smtp", "--transport must be http or ws")]
    [TestCase("--mode", "docker", "--mode must be both, in-process or process")]
    [TestCase("--runs", "0", "--runs must be a whole number")]
    [TestCase("--concurrency", "x", "--concurrency must be a whole number")]
    public void Bad_options_are_usage_errors(string option, string value, string expected)
    {
        var r = Cli.Run("bench", "handshake", option, value);
        Assert.That(Cli.AssertBadInput(r), Does.Contain(expected));
    }

    [Test]
    public void Vs_needs_agent_processes()
    {
        var r = Cli.Run("bench", "handshake", "--mode", "in-process", "--vs", "credo");
        Assert.That(Cli.AssertBadInput(r), Does.Contain("--vs drives agent processes"));
    }
}
