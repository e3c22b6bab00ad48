using Dclm.Data.Documents;
using Dclm.Data.Inputs;
using Dclm.Data.Pipeline;

namespace Dclm.Data.Quality;

/// <summary>Settings for <see cref="ClassifierTraining.Train"/>.</summary>
public sealed record ClassifierTrainingOptions
{
    /// <summary>Hash buckets for features.</summary>
    public int Buckets { get; init; } = 1 << 18;
    /// <summary>Embedding width.</summary>
    public int Dimension { get; init; } = 16;
    /// <summary>Passes over the data.</summary>
    public int Epochs { get; init; } = 5;
    /// <summary>Initial SGD learning rate (decays linearly to zero).</summary>
    public double LearningRate { get; init; } = 0.5;
    /// <summary>Share of each class held out for evaluation.</summary>
    public double HeldOutFraction { get; init; } = 0.2;
    /// <summary>Seed for the split, initialization and shuffling.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>Result of training: the model and its held-out accuracy.</summary>
public sealed record ClassifierTrainingResult(QualityClassifier Model, int TrainExamples, int HeldOutExamples, double HeldOutAccuracy, double TrainLoss);

/// <summary>Trains the quality classifier from positive and negative inputs (any pipeline input: WARC, JSONL, HTML).</summary>
public static class ClassifierTraining
{
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

    /// <summary>Splits each class into train and held-out parts, trains, and measures held-out accuracy.</summary>
    public static ClassifierTrainingResult Train(IReadOnlyList<string> positive, IReadOnlyList<string> negative, ClassifierTrainingOptions options, CancellationToken cancellation = default)
    {
        if (positive.Count == 0 || negative.Count == 0) throw new ArgumentException("training needs at least one positive and one negative text");
        var random = new Random(options.Seed);
        var train = new List<(string, bool)>();
        var heldOut = new List<(string Text, bool Positive)>();
        foreach (var (texts, label) in new[] { (positive, true), (negative, false) })
        {
            var order = Enumerable.Range(0, texts.Count).ToArray();
            random.Shuffle(order);
            int held = (int)Math.Round(texts.Count * options.HeldOutFraction);
            for (int i = 0; i < order.Length; i++) (i < held ? heldOut : train).Add((texts[order[i]], label));
        }
        var model = new QualityClassifier(options.Buckets, options.Dimension, options.Seed);
        double loss = model.Train(train, options.Epochs, options.LearningRate, options.Seed, cancellation);
        double accuracy = heldOut.Count == 0 ? double.NaN : heldOut.Count(e => model.Score(e.Text) >= 0.5 == e.Positive) / (double)heldOut.Count;
        return new ClassifierTrainingResult(model, train.Count, heldOut.Count, accuracy, loss);
    }
}
