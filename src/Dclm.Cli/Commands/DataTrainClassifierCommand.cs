using System.CommandLine;
using Dclm.Data.IO;
using Dclm.Data.Quality;
using Dclm.Formats;

namespace Dclm.Cli.Commands;

/// <summary>`dclm data train-classifier`: trains the fastText-style quality classifier.</summary>
internal static class DataTrainClassifierCommand
{
    public static Command Create()
    {
        var positive = new Option<string[]>("--positive") { Description = "High-quality inputs (files or folders)", Required = true, AllowMultipleArgumentsPerToken = true };
        var negative = new Option<string[]>("--negative") { Description = "Low-quality inputs (files or folders)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Model file to write", Required = true };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 5, Description = "Passes over the data" };
        var learningRate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => 0.5, Description = "Initial SGD learning rate" };
        var dimension = new Option<int>("--dim") { DefaultValueFactory = _ => 16, Description = "Embedding width" };
        var buckets = new Option<int>("--buckets") { DefaultValueFactory = _ => 1 << 18, Description = "Feature hash buckets" };
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => int.MaxValue, Description = "At most this many texts per class" };
        var command = new Command("train-classifier", "Train the quality classifier (hashed unigrams+bigrams, softmax, SGD)")
            { positive, negative, output, epochs, learningRate, dimension, buckets, limit };
        command.SetAction((parse, cancellation) => Task.FromResult(DataCommand.Guard(() =>
        {
            var positives = ClassifierTraining.ReadTexts(parse.GetValue(positive)!, parse.GetValue(limit));
            var negatives = ClassifierTraining.ReadTexts(parse.GetValue(negative)!, parse.GetValue(limit));
            var options = new ClassifierTrainingOptions
            {
                Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(learningRate),
                Dimension = parse.GetValue(dimension), Buckets = parse.GetValue(buckets),
            };
            var result = ClassifierTraining.Train(positives, negatives, options, cancellation);
            AtomicFile.Write(parse.GetValue(output)!, stream => result.Model.Save(stream));
            Console.WriteLine($"positive {positives.Count}, negative {negatives.Count}; trained on {result.TrainExamples}, " +
                              $"held-out accuracy {result.HeldOutAccuracy:P2} on {result.HeldOutExamples}; final loss {result.TrainLoss:F4}");
        })));
        return command;
    }
}
