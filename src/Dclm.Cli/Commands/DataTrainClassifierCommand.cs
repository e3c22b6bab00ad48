using System.CommandLine;
using Dclm.Data.FastText;
using Dclm.Data.IO;
using Dclm.Data.Quality;
using Dclm.Formats;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data train-classifier`: trains DCLM's fastText bigram quality classifier and writes a fastText .bin.</summary>
internal static class DataTrainClassifierCommand
{
    public static Command Create()
    {
        var defaults = new FastTextTrainingOptions();
        var positive = new Option<string[]>("--positive") { Description = "High-quality inputs, __label__hq (files or folders)", Required = true, AllowMultipleArgumentsPerToken = true };
        var negative = new Option<string[]>("--negative") { Description = "Low-quality inputs, __label__cc (files or folders)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "fastText model (.bin) to write", Required = true };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => defaults.Epochs, Description = "Passes over the data" };
        var learningRate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => defaults.LearningRate, Description = "Initial learning rate (fastText's -lr)" };
        var dimension = new Option<int>("--dim") { DefaultValueFactory = _ => defaults.Dimension, Description = "Hidden width (fastText's -dim)" };
        var buckets = new Option<int>("--buckets") { DefaultValueFactory = _ => defaults.Buckets, Description = "Word n-gram hash buckets (fastText's -bucket; the model holds (words + buckets) x dim floats)" };
        var wordNgrams = new Option<int>("--word-ngrams") { DefaultValueFactory = _ => defaults.WordNgrams, Description = "Longest word n-gram (2: bigrams)" };
        var minCount = new Option<int>("--min-count") { DefaultValueFactory = _ => defaults.MinCount, Description = "Leave out rarer words" };
        var heldOut = new Option<double>("--held-out") { DefaultValueFactory = _ => 0.1, Description = "Share of each class kept out for the reported accuracy (0: train on all, as DCLM)" };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => int.MaxValue, Description = "At most this many texts per class" };
        var command = new Command("train-classifier", "Train the quality classifier: a fastText supervised model (DCLM's settings: bigrams, dim 100, lr 0.1, 5 epochs) that fastText itself loads")
            { positive, negative, output, epochs, learningRate, dimension, buckets, wordNgrams, minCount, heldOut, limit };
        command.SetAction((parse, cancellation) => Task.FromResult(DataCommand.Guard(() =>
        {
            var positives = ClassifierTraining.ReadTexts(parse.GetValue(positive)!, parse.GetValue(limit));
            var negatives = ClassifierTraining.ReadTexts(parse.GetValue(negative)!, parse.GetValue(limit));
            var options = new ClassifierTrainingOptions
            {
                HeldOutFraction = parse.GetValue(heldOut),
                FastText = new FastTextTrainingOptions
                {
                    Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(learningRate), Dimension = parse.GetValue(dimension),
                    Buckets = parse.GetValue(buckets), WordNgrams = parse.GetValue(wordNgrams), MinCount = parse.GetValue(minCount),
                },
            };
            var progress = new Progress<double>(fraction => ConsoleProgress.Fraction("train", fraction));
            var result = ClassifierTraining.Train(positives, negatives, options, progress, cancellation);
            AtomicFile.Write(parse.GetValue(output)!, stream => result.Model.Save(stream));
            Console.WriteLine($"positive {positives.Count}, negative {negatives.Count}; trained on {result.TrainExamples} ({result.Model.Dictionary.WordCount} words, " +
                              $"{result.Model.Args.Buckets} buckets, dim {result.Model.Args.Dimension}); held-out accuracy " +
                              (result.HeldOutExamples == 0 ? "n/a" : $"{result.HeldOutAccuracy:P2} on {result.HeldOutExamples}"));
        })));
        return command;
    }
}
