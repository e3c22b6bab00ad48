using System.CommandLine;

namespace Dclm.Cli.Commands;

/// <summary>Every top-level command of the CLI; each lives in its own file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return DataCommand.Create();
        yield return InfoCommand.Create();
        yield return LogitsCommand.Create();
        yield return GenerateCommand.Create();
        yield return TokenizeCommand.Create();
        yield return ConvertCommand.Create();
        yield return ExportCommand.Create();
        yield return EvalCommand.Create();
        yield return PerplexityCommand.Create();
        yield return BenchCommand.Create();
        yield return GpuCheckCommand.Create();
        yield return QuantReportCommand.Create();
        yield return TrainCommand.Create();
        yield return FinetuneCommand.Create();
        yield return AlignCommand.Create();
        yield return TrainRewardCommand.Create();
        yield return ScoreCommand.Create();
        yield return MergeCommand.Create();
        yield return ServeCommand.Create();
        yield return ChatCommand.Create();
        yield return EmbedCommand.Create();
        yield return RagCommand.Create();
    }
}
