using System.CommandLine;
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
            // Straight to the stream: a rank that is not the root may have silenced Console.Error (QuietUnlessRoot).
            using (var error = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true })
                error.WriteLine($"error (rank {group.Rank} of {group.Size}): {e.Message}");
            group.Abort(1);
            return Task.FromResult(1);
        }
    }

    /// <summary>
    /// Every rank of a tensor-parallel run computes the same tokens and logits; only rank 0 prints them. The others' standard
    /// output and error are silenced (their failures still reach stderr through <see cref="Run"/>).
    /// </summary>
    public static void QuietUnlessRoot(ICommunicator group)
    {
        if (group.IsRoot) return;
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
    }

    /// <summary>
    /// --tensor-parallel: under an MPI launcher, split the model's heads and feed-forward width over the ranks instead of
    /// loading the whole model in each (one process without a launcher).
    /// </summary>
    public static Option<bool> TensorParallelOption() =>
        new("--tensor-parallel") { Description = "under mpirun/srun: split the model's attention heads and feed-forward width over the ranks (each loads 1/N of the layer weights); rank 0 prints" };

    /// <summary>Runs <paramref name="body"/> in the launcher's group when <paramref name="tensorParallel"/> is set, else alone (null group).</summary>
    public static Task<int> RunInference(bool tensorParallel, Func<ICommunicator?, int> body) =>
        tensorParallel ? Run(group =>
        {
            QuietUnlessRoot(group);
            return body(group);
        }) : CliErrors.RunAsync(() => Task.FromResult(body(null)));

    /// <summary>The line that says how a tensor-parallel model is split (nothing for a whole model).</summary>
    public static void DescribeShards(Dclm.Models.DecoderModel model)
    {
        if (model.TensorParallel is { } split)
            Console.Error.WriteLine($"tensor parallel: {split.Size} ranks, {model.Config.Heads} of {split.Model.Heads} attention heads, {model.Config.KeyValueHeads} of {split.Model.KeyValueHeads} key/value heads and {model.Config.HiddenDim} of {split.Model.HiddenDim} feed-forward units per rank");
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
