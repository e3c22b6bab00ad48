using Dclm.Data.FastText;
using Dclm.Data.Inputs;
using Dclm.Data.Pipeline;

namespace Dclm.Data.Quality;

/// <summary>Settings of <see cref="ClassifierTraining.Train"/>: fastText's (DCLM's by default) plus the held-out split.</summary>
public sealed record ClassifierTrainingOptions
{
    /// <summary>fastText training settings (DCLM's: dim 100, lr 0.1, 5 epochs, word bigrams, 2M buckets).</summary>
    public FastTextTrainingOptions FastText { get; init; } = new();
    /// <summary>Share of each class held out for the reported accuracy (0 trains on everything, as DCLM did).</summary>
    public double HeldOutFraction { get; init; } = 0.1;
    /// <summary>Seed of the split and of the training order.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>The trained model, the split sizes and the held-out accuracy (NaN without held-out data).</summary>
public sealed record ClassifierTrainingResult(FastTextModel Model, int TrainExamples, int HeldOutExamples, double HeldOutAccuracy, IReadOnlyList<(string Text, bool Positive)> HeldOut);

/// <summary>
/// Trains DCLM's quality classifier: a fastText supervised model over "__label__hq" (positive) and "__label__cc"
/// (negative) lines, each page normalized as <see cref="QualityScorer"/> reads it, shuffled with a seed.
/// </summary>
public static class ClassifierTraining
{
    /// <summary>DCLM's positive label (OpenHermes-2.5 and ELI5 in its classifier).</summary>
    public const string PositiveLabel = "__label__hq";

    /// <summary>DCLM's negative label (RefinedWeb in its classifier).</summary>
    public const string NegativeLabel = "__label__cc";

    /// <summary>Reads texts from <paramref name="paths"/>; HTML is reduced to main content first.</summary>
    public static List<string> ReadTexts(IEnumerable<string> paths, int limit = int.MaxValue)
    {
        var extract = new ExtractionStep(0.6);
        var texts = new List<string>();
        foreach (var path in paths)
        {
            foreach (var unit in InputPlanner.Plan(path))
            {
                foreach (var document in InputUnitReader.Read(unit))
                {
                    if (!extract.Apply(document).IsKept) continue;
                    texts.Add(document.Text);
                    if (texts.Count >= limit) return texts;
                }
            }
        }
        return texts;
    }

    /// <summary>One fastText training line.</summary>
    public static string TrainingLine(string text, bool positive) => (positive ? PositiveLabel : NegativeLabel) + " " + QualityScorer.Normalize(text);

    /// <summary>Splits each class into train and held-out parts, trains, and measures held-out accuracy.</summary>
    public static ClassifierTrainingResult Train(IReadOnlyList<string> positive, IReadOnlyList<string> negative, ClassifierTrainingOptions options,
        IProgress<double>? progress = null, CancellationToken cancellation = default)
    {
        if (positive.Count == 0 || negative.Count == 0) throw new ArgumentException("training needs at least one positive and one negative text");
        if (options.HeldOutFraction is < 0 or >= 1) throw new ArgumentException("the held-out fraction must be in [0, 1)");
        var random = new Random(options.Seed);
        var train = new List<(string Text, bool Positive)>();
        var heldOut = new List<(string Text, bool Positive)>();
        foreach (var (texts, label) in new[] { (positive, true), (negative, false) })
        {
            var order = Enumerable.Range(0, texts.Count).ToArray();
            random.Shuffle(order);
            int held = (int)Math.Round(texts.Count * options.HeldOutFraction);
            for (int i = 0; i < order.Length; i++) (i < held ? heldOut : train).Add((texts[order[i]], label));
        }
        var shuffled = train.ToArray();
        random.Shuffle(shuffled);
        var model = FastTextTrainer.Train(shuffled.Select(e => TrainingLine(e.Text, e.Positive)).ToList(), options.FastText with { Seed = options.Seed }, progress, cancellation);
        var scorer = new QualityScorer(model);
        double accuracy = heldOut.Count == 0 ? double.NaN : heldOut.Count(e => scorer.Score(e.Text) >= 0.5 == e.Positive) / (double)heldOut.Count;
        return new ClassifierTrainingResult(model, train.Count, heldOut.Count, accuracy, heldOut);
    }
}
