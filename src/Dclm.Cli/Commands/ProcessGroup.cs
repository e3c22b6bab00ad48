using Dclm.Distributed;
using Dclm.Training.Distributed;

namespace Dclm.Cli.Commands;

/// <summary>
/// How `dclm train` and `dclm finetune` run under an MPI launcher (mpirun, srun, the MPI Operator): join the
/// launcher's process group, train data-parallel, and when one rank fails, end them all rather than leave the
/// others waiting in a collective.
/// </summary>
internal static class ProcessGroup
{
    /// <summary>Runs <paramref name="body"/> in the launcher's group (a group of one without a launcher).</summary>
    public static Task<int> Run(Func<ICommunicator, int> body)
    {
        var group = Launcher.Join();
        if (group.Size == 1) return CliErrors.RunAsync(() => Task.FromResult(body(group)));
        try
        {
            int code = body(group);
            group.Dispose();
            return Task.FromResult(code);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error (rank {group.Rank} of {group.Size}): {e.Message}");
            group.Abort(1);
            return Task.FromResult(1);
        }
    }

    /// <summary>A log that writes each line to stderr from rank 0 only.</summary>
    public static Action<string> RootLog(DataParallel parallel) => line => { if (parallel.IsRoot) Console.Error.WriteLine(line); };

    /// <summary>The one-line report of how the run is spread: ranks, sequences per rank, and the optimizer state each rank holds.</summary>
    public static void Describe(DataParallel parallel, int globalBatch, long optimizerBytes, Action<string> log)
    {
        if (parallel.Ranks > 1)
            log($"data parallel: {parallel.Ranks} ranks, {globalBatch / parallel.Ranks} of the {globalBatch} sequences of each micro-batch per rank");
        string sharding = parallel.ZeroStage == 1 && parallel.Ranks > 1 ? $" (ZeRO-1: 1/{parallel.Ranks} of it)" : "";
        log($"optimizer state: {optimizerBytes:N0} bytes on rank {parallel.Rank}{sharding}");
    }
}
