namespace Conformance.Harness.Grading;

/// <summary>
/// Marks a static class of cases for one RFC section, h2spec style: <c>[Suite("RFC0160", "1. Connection Request",
/// "aries-rfcs/0160-connection-protocol/README.md#1-connection-request")]</c>. The section path is relative to
/// shared/specs and becomes the link on every case page.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SuiteAttribute(string rfc, string title, string section) : Attribute
{
    public string Rfc { get; } = rfc;
    public string Title { get; } = title;
    public string Section { get; } = section;
    /// <summary>What the cases talk to: the agent under test (its backchannel and DIDComm v1 endpoint, the default)
    /// or the DIDComm v2 mediator under test (only by its DID, as any v2 client would).</summary>
    public CaseTarget Target { get; init; } = CaseTarget.Agent;
    /// <summary>Every case of the suite runs alone, never beside another case (see <see cref="CaseAttribute.RunsAlone"/>).</summary>
    public bool RunsAlone { get; init; }
}

/// <summary>What a suite's cases run against.</summary>
public enum CaseTarget { Agent, Mediator }

/// <summary>
/// One case: an id (<c>RFC0160-REQUEST-003</c>), the requirement text it checks (quoted from the RFC), its level,
/// and optionally the AATH scenario it is the counterpart of. A case method is
/// <c>public static Task Name(CaseContext c)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CaseAttribute(string id, string requirement) : Attribute
{
    public string Id { get; } = id;
    public string Requirement { get; } = requirement;
    public Level Level { get; init; } = Level.MUST;
    /// <summary>Anchor inside the suite's section document, if more precise than the suite's.</summary>
    public string? Section { get; init; }
    /// <summary>What the case does, in a sentence or two.</summary>
    public string? Description { get; init; }
    /// <summary>The AATH scenario this case is a counterpart of, e.g. "T001-RFC0160" (with "@wip" if AATH left it unfinished).</summary>
    public string? Aath { get; init; }
    /// <summary>The scenario of another test suite this case is a counterpart of, e.g. an Identus mediator test-suite
    /// feature ("pickup_message.feature: Recipient sends a status-request message with no forward message available").</summary>
    public string? Counterpart { get; init; }
    /// <summary>Needs an agent under test that can act in this role/feature; used for UNSUPPORTED reasons.</summary>
    public string? Needs { get; init; }
    /// <summary>
    /// The case must not share the agent under test with another case: it reconfigures the agent (its transports), reads
    /// agent-wide state (its whole list of connections), or needs the machine to itself (a browser). Other cases of an
    /// external agent may run side by side (<c>--parallel</c>); this one waits until they are done and runs alone.
    /// </summary>
    public bool RunsAlone { get; init; }
}
