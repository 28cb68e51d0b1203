namespace Conformance.Harness.Drivers;

/// <summary>
/// How the harness reaches an agent under test: always through its AATH backchannel. Drivers differ in how the agent
/// is started (in-process reference agent, a backchannel URL, a local process, a Docker container) and stopped.
/// </summary>
public interface IAgentDriver : IAsyncDisposable
{
    /// <summary>Short name used in reports and fixture paths ("reference", "credo", "url-127.0.0.1-9020").</summary>
    string Name { get; }
    /// <summary>"in-process", "url", "process" or "docker".</summary>
    string Runtime { get; }
    BackchannelClient Backchannel { get; }
    /// <summary>True when the agent produces the same bytes for the same case on every run (seeded reference agent).</summary>
    bool IsDeterministic { get; }
    /// <summary>Starts (or connects to) the agent and waits until its backchannel answers.</summary>
    Task StartAsync(CancellationToken ct = default);
    /// <summary>Called before each case; the embedded reference agent takes a fresh seeded instance here.</summary>
    Task BeginCaseAsync(string caseId, CancellationToken ct = default);
    Task EndCaseAsync(CancellationToken ct = default);
    /// <summary>True when each case gets an agent instance of its own (<see cref="BeginCaseAsync"/>): then cases cannot
    /// share the agent and run one at a time.</summary>
    bool FreshAgentPerCase => false;
}
