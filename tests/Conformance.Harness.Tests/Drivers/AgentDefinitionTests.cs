using Conformance.Harness.Drivers;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>agents/&lt;name&gt;/agent.json: parsing, placeholders, and one-line errors that name the field.</summary>
[TestFixture]
public class AgentDefinitionTests
{
    private static AgentDefinition Parse(string json) => AgentDefinition.Parse(json, "/defs/x", "/repo", "agent.json");

    [Test]
    public void The_reference_definition_loads_and_expands()
    {
        var d = AgentDefinition.Find(DriverTestSupport.RepoRoot, "reference");
        var vars = d.Variables(9020, 9021, "run1");
        var args = d.Args.Select((a, i) => AgentDefinition.Expand(a, vars, $"args[{i}]")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(d.Name, Is.EqualTo("reference"));
            Assert.That(d.Command, Is.EqualTo("dotnet"));
            Assert.That(args[0], Is.EqualTo(DriverTestSupport.CliDll));
            Assert.That(args, Is.SupersetOf(new[] { "agent", "--port", "9020", "--backchannel-port", "9021" }));
            Assert.That(AgentDefinition.Expand(d.Backchannel, vars, "backchannel"), Is.EqualTo("http://127.0.0.1:9021/"));
            Assert.That(d.Health, Is.EqualTo("agent/command/status"));
            Assert.That(d.Docker!.Image, Is.EqualTo("conformance/reference:dev"));
            Assert.That(d.Docker.Args, Does.Contain("{backchannel_port}"));
            Assert.That(d.Install!.WriteMarker, Is.False);
        });
    }

    [Test]
    public void Defaults_and_install_forms()
    {
        var d = Parse("""{"name": "n", "command": "node", "install": "npm install --ignore-scripts"}""");
        Assert.Multiple(() =>
        {
            Assert.That(d.Backchannel, Is.EqualTo("http://127.0.0.1:{backchannel_port}/"));
            Assert.That(d.Health, Is.EqualTo("agent/command/status"));
            Assert.That(d.Cwd, Is.EqualTo("."));
            Assert.That(d.StartupTimeout, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(d.Install, Is.EqualTo(new AgentDefinition.InstallStep("npm install --ignore-scripts", AgentDefinition.DefaultMarker, true, TimeSpan.FromMinutes(10))));
        });
        var e = Parse("""{"name": "n", "command": "node", "install": {"command": "npm ci", "marker": "node_modules", "timeout_s": 30}}""");
        Assert.That(e.Install, Is.EqualTo(new AgentDefinition.InstallStep("npm ci", "node_modules", false, TimeSpan.FromSeconds(30))));
    }

    [Test]
    public void Placeholders_expand_escape_and_reject_unknown_names()
    {
        var vars = Parse("""{"name": "n", "command": "c"}""").Variables(1, 2, "r");
        Assert.That(AgentDefinition.Expand("{repo}/x:{port}:{backchannel_port}:{name}:{run_id}:{dir}", vars, "w"), Is.EqualTo("/repo/x:1:2:n:r:/defs/x"));
        Assert.That(AgentDefinition.Expand("{{\"json\": {port}}}", vars, "w"), Is.EqualTo("{\"json\": 1}"));
        Assert.That(() => AgentDefinition.Expand("--p {prot}", vars, "args[3]"),
            Throws.TypeOf<AgentDefinitionException>().With.Message.StartsWith("args[3]: unknown placeholder {prot}"));
        Assert.That(() => AgentDefinition.Expand("{port", vars, "args[0]"), Throws.TypeOf<AgentDefinitionException>().With.Message.Contains("unclosed"));
    }

    [TestCase("[]", "must be a JSON object")]
    [TestCase("{", "not valid JSON")]
    [TestCase("""{"command": "x"}""", "\"name\" is required")]
    [TestCase("""{"name": "../etc", "command": "x"}""", "\"name\" must be")]
    [TestCase("""{"name": "n"}""", "needs \"command\"")]
    [TestCase("""{"name": "n", "command": 5}""", "\"command\" must be a string")]
    [TestCase("""{"name": "n", "command": "x", "args": "a b"}""", "\"args\" must be an array")]
    [TestCase("""{"name": "n", "command": "x", "env": {"A": []}}""", "\"env.A\" must be a string")]
    [TestCase("""{"name": "n", "command": "x", "startup_timeout_s": -1}""", "\"startup_timeout_s\" must be a number")]
    [TestCase("""{"name": "n", "command": "x", "install": 3}""", "\"install\" must be")]
    [TestCase("""{"name": "n", "docker": {"args": []}}""", "\"docker.image\" is required")]
    public void Bad_definitions_are_one_line_naming_the_field(string json, string expected) =>
        Assert.That(() => Parse(json), Throws.TypeOf<AgentDefinitionException>().With.Message.Contains(expected).And.Message.StartsWith("agent.json"));

    [Test]
    public void Find_names_the_known_agents_when_one_is_missing() =>
        Assert.That(() => AgentDefinition.Find(DriverTestSupport.RepoRoot, "nope"),
            Throws.TypeOf<AgentDefinitionException>().With.Message.Contains("known: ").And.Message.Contains("reference"));
}
