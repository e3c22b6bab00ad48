namespace Dclm.Inference.Engine;

/// <summary>The engine's waiting queue is full (or the engine is stopping); the caller should retry later.</summary>
public sealed class EngineBusyException(string message) : Exception(message);

/// <summary>
/// A request that breaks a range or the engine's limits; <see cref="Field"/> names the offending input as the HTTP API
/// spells it. An <see cref="ArgumentException"/>, so a command line reports it as a bad argument.
/// </summary>
public sealed class RequestValidationException(string field, string message) : ArgumentException(message)
{
    /// <summary>The request field at fault, e.g. "max_tokens".</summary>
    public string Field { get; } = field;
}
