namespace Conformance.Cli.Tests;

/// <summary>`conformance run` picks its targets from what the user named: the agent suites need --agent, the mediator
/// suites --mediator; nothing named runs both against the embedded ones.</summary>
public class RunVerbTests
{
    private static string[] Listed(CliResult r)
    {
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
    }

    [Test]
    public void Plain_run_lists_the_agent_and_the_mediator_suites()
    {
        var ids = Listed(Cli.Run("run", "--list"));
        Assert.That(ids, Has.Some.StartsWith("RFC0160-"));
        Assert.That(ids, Has.Some.StartsWith("PICKUP3-"));
        Assert.That(ids, Has.Some.StartsWith("MEDIATE2-"));
    }

    [Test]
    public void An_agent_alone_runs_only_the_agent_suites_and_a_mediator_alone_only_the_mediator_suites()
    {
        var agent = Listed(Cli.Run("run", "--agent", "reference", "--list"));
        Assert.That(agent, Has.Some.StartsWith("RFC0023-"));
        Assert.That(agent, Has.None.StartsWith("PICKUP3-").And.None.StartsWith("MEDIATOR-"));
        var mediator = Listed(Cli.Run("run", "--mediator", "embedded", "--list"));
        Assert.That(mediator, Has.Some.StartsWith("PICKUP3-").And.Some.StartsWith("MEDIATOR-WS-"));
        Assert.That(mediator, Has.None.StartsWith("RFC"));
    }

    [Test]
    public void A_suite_of_the_other_target_is_a_usage_error_naming_the_suites()
    {
        var line = Cli.AssertBadInput(Cli.Run("run", "--agent", "reference", "--suite", "PICKUP3", "--list"));
        Assert.That(line, Does.Contain("mediator suites (--mediator)").And.Contain("PICKUP3"));
    }

    [Test]
    public void Nothing_to_test_and_a_runtime_without_an_agent_are_usage_errors()
    {
        Assert.That(Cli.AssertBadInput(Cli.Run("run", "--agent", "none", "--mediator", "none")), Does.Contain("nothing to test"));
        Assert.That(Cli.AssertBadInput(Cli.Run("run", "--mediator", "embedded", "--runtime", "docker")), Does.Contain("--runtime"));
        Assert.That(Cli.AssertBadInput(Cli.Run("run", "--mediator", "embedded", "--ws-idle", "soon")), Does.Contain("--ws-idle"));
    }

    [TestCase("0")]
    [TestCase("four")]
    [TestCase("-2")]
    public void A_parallel_width_that_is_not_a_positive_whole_number_is_a_usage_error(string width) =>
        Assert.That(Cli.AssertBadInput(Cli.Run("run", "--agent", "reference", "--parallel", width, "--list")), Does.Contain("--parallel"));
}
