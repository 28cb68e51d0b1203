namespace Conformance.Agent.Core;

/// <summary>
/// The agent's notion of "now". The system clock in normal runs; a stepping clock in deterministic mode, so that
/// timestamps in messages (e.g. the RFC 0234 signature timestamp) are the same on every run with the same seed.
/// </summary>
public abstract class AgentClock
{
    public static AgentClock System { get; } = new SystemClock();

    /// <summary>Starts at <paramref name="start"/> and advances by one second on every reading.</summary>
    public static AgentClock Stepping(DateTimeOffset start) => new SteppingClock(start);

    public abstract DateTimeOffset Now();

    private sealed class SystemClock : AgentClock
    {
        public override DateTimeOffset Now() => DateTimeOffset.UtcNow;
    }

    private sealed class SteppingClock(DateTimeOffset start) : AgentClock
    {
        private long _ticks;
        public override DateTimeOffset Now() => start.AddSeconds(Interlocked.Increment(ref _ticks) - 1);
    }
}
