namespace Conformance.Mediator;

/// <summary>
/// Process-wide runtime settings that matter for a mediator on a small machine. Call <see cref="Tune"/> first thing in
/// Main (before anything queues work to the thread pool), or set the equivalent runtimeconfig options.
/// </summary>
public static class MediatorRuntime
{
    /// <summary>
    /// <c>System.Threading.ThreadPool.UnfairSemaphoreSpinLimit = 0</c>: idle thread-pool workers block at once instead of
    /// spinning (default 70 spins). On 2 cores the spinning workers take CPU from the ones doing the work; the bench measured
    /// it at ~10% of all CPU. Equivalent to <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0</c> or a
    /// <c>RuntimeHostConfigurationOption</c> in the exe's project. Has no effect once the thread pool has started.
    /// </summary>
    public static void Tune()
    {
        if (AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit") is null &&
            Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") is null)
            AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", 0);
    }
}
