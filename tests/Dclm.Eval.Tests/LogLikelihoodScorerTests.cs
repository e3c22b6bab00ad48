using System.Text.Json;
using Dclm.Checkpoints;
using Dclm.Eval.Scoring;

namespace Dclm.Eval.Tests;

/// <summary>Batched, KV-sharing scores on the tiny DCLM fixture equal a fresh full forward per option.</summary>
public sealed class LogLikelihoodScorerTests : IDisposable
{
    private readonly LoadedModel _loaded = ModelLoader.Load(TinyNeoXModel.Fixture("dclm-tiny"));
    private readonly int[] _prompt;

    public LogLikelihoodScorerTests()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(TinyNeoXModel.Fixture("dclm-tiny", "reference.json")));
        _prompt = reference.RootElement.GetProperty("prompt_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public void Dispose() => _loaded.Dispose();

    [Fact]
    public void MultipleChoiceScoresEqualFullForwardWithoutKvReuse()
    {
        var random = new Random(3);
        var scorer = new LogLikelihoodScorer(_loaded.Model);
        for (int question = 0; question < 6; question++)
        {
            int choices = 2 + question % 4;
            // Choices of different lengths (1..9 tokens) after the fixture's prompt.
            var options = Enumerable.Range(0, choices)
                .Select(_ => new ScoringOption(_prompt, Enumerable.Range(0, 1 + random.Next(9)).Select(_ => random.Next(512)).ToArray()))
                .ToArray();
            var scores = scorer.Score(options);
            for (int j = 0; j < choices; j++)
            {
                var (expected, greedy) = DirectScoring.Continuation(_loaded.Model, options[j].Context, options[j].Continuation);
                Assert.Equal(expected, scores[j].LogProbability, 4);
                Assert.Equal(options[j].Continuation.Length, scores[j].Tokens);
                Assert.Equal(greedy, scores[j].GreedyMatch);
            }
        }
        Assert.Equal(6, scorer.BatchedPasses);
    }

    [Fact]
    public void MultipleChoiceScoresEqualWhatDclmLogitsWrites()
    {
        // The acceptance check as users would run it: `dclm logits` over context + choice, one process per choice.
        var options = new[] { new ScoringOption(_prompt, [3, 14, 15]), new ScoringOption(_prompt, [92]), new ScoringOption(_prompt, [65, 35, 89, 79]) };
        var scores = new LogLikelihoodScorer(_loaded.Model).Score(options);
        string directory = Directory.CreateTempSubdirectory("dclm-eval-logits-").FullName;
        try
        {
            for (int j = 0; j < options.Length; j++)
            {
                int[] ids = [.. options[j].Context, .. options[j].Continuation];
                string file = Path.Combine(directory, $"choice{j}.f32");
                var run = EvalCommandTests.Dclm("logits", "--model", TinyNeoXModel.Fixture("dclm-tiny"), "--prompt-tokens", string.Join(' ', ids), "--output", file);
                Assert.True(run.ExitCode == 0, run.Error);
                var bytes = File.ReadAllBytes(file);
                var logits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
                Assert.Equal(ids.Length * 512, logits.Length);
                double expected = 0;
                for (int i = 0; i < options[j].Continuation.Length; i++)
                {
                    var row = logits.AsSpan((options[j].Context.Length - 1 + i) * 512, 512);
                    double max = row.ToArray().Max(), total = row.ToArray().Sum(z => Math.Exp(z - max));
                    expected += row[options[j].Continuation[i]] - max - Math.Log(total);
                }
                Assert.Equal(expected, scores[j].LogProbability, 4);
            }
        }
        finally { Directory.Delete(directory, recursive: true); }
    }

    [Fact]
    public void TheUnsharedReferenceGivesTheSameScoresWithOnePassPerOption()
    {
        var options = new[] { new ScoringOption(_prompt, [3, 14, 15]), new ScoringOption(_prompt[..7], [92]), new ScoringOption(_prompt, [65, 35, 89, 79]) };
        var shared = new LogLikelihoodScorer(_loaded.Model);
        var reference = new LogLikelihoodScorer(_loaded.Model, shareContext: false);
        var a = shared.Score(options);
        var b = reference.Score(options);
        for (int j = 0; j < options.Length; j++) Assert.Equal(b[j].LogProbability, a[j].LogProbability, 4);
        Assert.Equal(1, shared.BatchedPasses);
        Assert.Equal(3, reference.BatchedPasses);
        Assert.Equal(0, reference.PrefillSteps);
    }

    [Fact]
    public void SchemaStyleContextsThatDivergeShareOnlyTheirCommonPrefix()
    {
        var scorer = new LogLikelihoodScorer(_loaded.Model);
        int[] shared = [7, 8, 9, 10, 11];
        var options = new[]
        {
            new ScoringOption([.. _prompt, 1, 2, 3], shared),
            new ScoringOption([.. _prompt, 4], shared),
            new ScoringOption([.. _prompt[..5]], shared),
            new ScoringOption([99, .. _prompt], shared),
        };
        var scores = scorer.Score(options);
        for (int j = 0; j < options.Length; j++)
            Assert.Equal(DirectScoring.Continuation(_loaded.Model, options[j].Context, options[j].Continuation).LogProbability, scores[j].LogProbability, 4);
    }

    [Fact]
    public void GreedyMatchHoldsForTheModelsOwnGreedyContinuation()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(TinyNeoXModel.Fixture("dclm-tiny", "reference.json")));
        var greedy = reference.RootElement.GetProperty("greedy_continuation_token_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var scorer = new LogLikelihoodScorer(_loaded.Model);
        var scores = scorer.Score([new ScoringOption(_prompt, greedy), new ScoringOption(_prompt, [.. greedy[..^1], (greedy[^1] + 1) % 512])]);
        Assert.True(scores[0].GreedyMatch);
        Assert.False(scores[1].GreedyMatch);
    }

    [Fact]
    public void ContextsLongerThanTheWindowAreCutFromTheLeft()
    {
        var scorer = new LogLikelihoodScorer(_loaded.Model);
        int window = _loaded.Config.ContextLength;
        var context = Enumerable.Range(0, window + 40).Select(i => (i * 37) % 512).ToArray();
        int[] continuation = [5, 6, 7];
        var score = scorer.Score([new ScoringOption(context, continuation)])[0];
        var expected = DirectScoring.Continuation(_loaded.Model, context[^(window - continuation.Length)..], continuation).LogProbability;
        Assert.Equal(expected, score.LogProbability, 4);
    }

    [Fact]
    public void EmptyContinuationsAreRejected()
    {
        var scorer = new LogLikelihoodScorer(_loaded.Model);
        Assert.Throws<ArgumentException>(() => scorer.Score([new ScoringOption(_prompt, [])]));
        Assert.Throws<ArgumentException>(() => scorer.Score([new ScoringOption([], [1])]));
    }
}
