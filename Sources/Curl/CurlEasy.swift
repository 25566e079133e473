import CCurl
import Foundation

/// A libcurl failure, already turned into Swift values.
package struct CurlError: Error, Sendable {
    /// The raw `CURLcode`, kept so callers can tell a timeout from a refused connection.
    package var code: Int
    /// curl's own words: the detailed error buffer when curl filled it, else `curl_easy_strerror`.
    package var message: String
    /// The last response code the server sent before the failure (an SMTP reply such as 550),
    /// or 0 when none came.
    package var responseCode: Int
    /// The server's last reply lines (for SMTP: `550 5.1.1 User unknown`), when it sent any.
    package var responseLines: [String]
    /// Set when the transfer was stopped because the body outgrew the caller's limit, which is
    /// the server's doing and not a network fault, so callers must not retry it.
    package var bodyTooLarge: BodyTooLarge?

    package init(
        code: Int, message: String, responseCode: Int = 0, responseLines: [String] = [], bodyTooLarge: BodyTooLarge? = nil
    ) {
        self.code = code
        self.message = message
        self.responseCode = responseCode
        self.responseLines = responseLines
        self.bodyTooLarge = bodyTooLarge
    }

    init(
        _ code: CURLcode, detail: String? = nil, responseCode: Int = 0, responseLines: [String] = [],
        bodyTooLarge: BodyTooLarge? = nil
    ) {
        let generic = String(cString: curl_easy_strerror(code))
        self.init(
            code: Int(code.rawValue), message: (detail?.isEmpty ?? true) ? generic : detail!,
            responseCode: responseCode, responseLines: responseLines, bodyTooLarge: bodyTooLarge)
    }

    /// `CURLE_OPERATION_TIMEDOUT`.
    package var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
}

/// How a response body broke the limit given to `perform(maxBodyBytes:)`.
package struct BodyTooLarge: Sendable, Equatable {
    /// The limit in bytes, counted after decompression.
    package var limit: Int
    /// Body bytes (decompressed) that had arrived when the transfer was stopped: a little more than
    /// `limit` when the body outgrew it, 0 when the announced length alone was over it.
    package var received: Int
    /// The Content-Length the server sent, when it sent one (the compressed size for a compressed body).
    package var announced: Int?
}

/// What one `perform()` produced, copied out of libcurl before the handle is reused.
package struct CurlResponse: Sendable {
    /// The final response's status, after any redirects curl followed.
    package var status: Int
    /// The final response's header fields in arrival order, names as the server spelled them.
    package var headers: [(name: String, value: String)]
    package var body: Data
    /// Where the body actually came from, which differs from the request URL after redirects.
    package var effectiveURL: String
    /// Every response line as received, for protocols whose replies are not `name: value`
    /// fields (SMTP's `250 2.0.0 Ok: queued as …`).
    package var responseLines: [String] = []
}

/// libcurl's process-wide setup. A Swift global is initialised exactly once, under a lock,
/// on first use, which gives the "once, before any handle exists" that libcurl asks for.
private let globalInitCode: CURLcode = curl_global_init(ccurl_global_default)

/// One libcurl easy handle.
///
/// Keeping the handle between transfers is what keeps connections (and TLS sessions and
/// DNS answers) alive, so the owner resets it between requests instead of recreating it.
/// Everything that crosses into C lives in this file; callers see only Swift values.
///
/// `@unchecked Sendable`: libcurl forbids using one easy handle from two threads at the same
/// time, and nothing here is synchronised. That is safe because every owner hands a handle to
/// exactly one transfer at a time (HTTPClient checks it out of a Mutex-guarded pool, so the lock
/// orders one transfer's accesses before the next's), and a transfer uses it from a single
/// thread from its first option to the end of `perform()`.
package final class CurlEasy: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// curl writes its detailed message for the last failure here (CURLOPT_ERRORBUFFER).
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Lists handed to curl by pointer must outlive the transfer, so they are freed on reset,
    /// or when the same option gets a new list.
    private var lists: [CURLoption: UnsafeMutablePointer<curl_slist>] = [:]
    /// Bytes fed to the read callback when uploading (SMTP, PUT).
    private var uploadBody: [UInt8]?
    /// Asked before the upload's last bytes go out (see `setUploadBody(_:beforeLastChunk:)`).
    private var uploadGate: (@Sendable () -> Bool)?
    /// Whether response lines are parsed as `name: value` fields (HTTP). SMTP's replies are
    /// not fields; their owner reads ``CurlResponse/responseLines`` and spares the parsing.
    package var parsesHeaderFields = true

    /// The libcurl version string, e.g. "libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13".
    package static var version: String {
        String(cString: curl_version())
    }

    package init() throws(CurlError) {
        guard globalInitCode == CURLE_OK else {
            throw CurlError(globalInitCode)
        }
        guard let handle = curl_easy_init() else {
            throw CurlError(CURLE_FAILED_INIT)
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        freeLists()
        errorBuffer.deallocate()
    }

    /// Forgets every option (so nothing leaks from one request into the next) but keeps the
    /// connection cache, TLS session cache and DNS cache, which is the point of reusing a handle.
    package func reset() {
        curl_easy_reset(handle)
        freeLists()
        uploadBody = nil
        uploadGate = nil
    }

    package func set(_ option: CURLoption, long value: Int) throws(CurlError) {
        try check(ccurl_easy_setopt_long(handle, option, value))
    }

    /// For string options only; libcurl copies them (CURLOPT_POSTFIELDS, which it does not
    /// copy, goes through `setPostBody` instead).
    package func set(_ option: CURLoption, string value: String) throws(CurlError) {
        precondition(option != CURLOPT_POSTFIELDS, "CURLOPT_POSTFIELDS is not copied by libcurl; use setPostBody")
        guard !value.utf8.contains(0) else {
            throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "option value contains a NUL byte")
        }
        try check(ccurl_easy_setopt_string(handle, option, value))
    }

    package func set(_ option: CURLoption, offset value: Int64) throws(CurlError) {
        try check(ccurl_easy_setopt_off_t(handle, option, curl_off_t(value)))
    }

    /// For `curl_slist` options such as CURLOPT_HTTPHEADER and CURLOPT_MAIL_RCPT. The list
    /// this option had before is freed once curl holds the new one.
    package func set(_ option: CURLoption, list values: [String]) throws(CurlError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for value in values {
            guard !value.utf8.contains(0) else {
                curl_slist_free_all(list)
                throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "list entry contains a NUL byte")
            }
            guard let appended = curl_slist_append(list, value) else {
                curl_slist_free_all(list)
                throw CurlError(CURLE_OUT_OF_MEMORY)
            }
            list = appended
        }
        let previous = lists[option]
        lists[option] = list
        try check(ccurl_easy_setopt_pointer(handle, option, list))
        curl_slist_free_all(previous)
    }

    /// Sends `body` as a POST body. CURLOPT_COPYPOSTFIELDS makes curl keep its own copy, so
    /// the body survives redirects that repeat it (307/308) without a rewind callback.
    package func setPostBody(_ body: Data) throws(CurlError) {
        try set(CURLOPT_POST, long: 1)
        try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count))
        if body.isEmpty {
            try check(ccurl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
            return
        }
        let code = body.withUnsafeBytes { bytes in
            ccurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        try check(code)
    }

    /// Streams `body` through the read callback with CURLOPT_UPLOAD, which is how SMTP sends a
    /// message (and how HTTP sends a PUT).
    ///
    /// - Parameter beforeLastChunk: called on the transfer's thread before the body's last bytes
    ///   are handed to libcurl, and may block. For SMTP that is the last moment the message can
    ///   still be withdrawn: the end-of-data dot follows those bytes. Returning false aborts the
    ///   transfer (CURLE_ABORTED_BY_CALLBACK) so the server never gets the dot and keeps nothing.
    package func setUploadBody(_ body: [UInt8], beforeLastChunk: (@Sendable () -> Bool)? = nil) throws(CurlError) {
        try set(CURLOPT_UPLOAD, long: 1)
        try set(CURLOPT_INFILESIZE_LARGE, offset: Int64(body.count))
        uploadBody = body
        uploadGate = beforeLastChunk
    }

    /// Runs the transfer configured since the last reset, blocking the calling thread until it
    /// ends, then resets the handle. Call it from a thread that may block, never from Swift's
    /// cooperative pool.
    ///
    /// - Parameters:
    ///   - maxBodyBytes: the most body bytes to keep, counted after decompression, so that an endless
    ///     body or a compression bomb ends the transfer instead of filling memory. Exceeding it throws
    ///     CURLE_FILESIZE_EXCEEDED with ``CurlError/bodyTooLarge`` set. `nil` means no limit.
    ///   - shouldAbort: polled by libcurl's progress callback (about once a second while
    ///     idle, more often while data flows); returning true ends the transfer with
    ///     CURLE_ABORTED_BY_CALLBACK, which is how a cancelled Swift task stops a blocked transfer.
    ///   - keepingOptions: leave the options set for the next transfer instead of resetting the
    ///     handle, for an owner that repeats the same kind of transfer thousands of times (an
    ///     SMTP lane) and sets only what changes; the upload body is forgotten either way.
    package func perform(
        maxBodyBytes: Int? = nil, shouldAbort: (@Sendable () -> Bool)? = nil, keepingOptions: Bool = false
    ) throws(CurlError) -> CurlResponse {
        defer {
            if keepingOptions {
                uploadBody = nil
                uploadGate = nil
            } else {
                reset()
            }
        }
        let context = TransferContext(
            upload: uploadBody, maxBodyBytes: maxBodyBytes, shouldAbort: shouldAbort, parsesHeaderFields: parsesHeaderFields)
        context.uploadGate = uploadGate
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let userdata = unmanaged.toOpaque()

        try check(ccurl_easy_setopt_write_callback(handle, curlWriteCallback))
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata))
        try check(ccurl_easy_setopt_header_callback(handle, curlHeaderCallback))
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata))
        if context.upload != nil {
            try check(ccurl_easy_setopt_read_callback(handle, curlReadCallback))
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, userdata))
        }
        if shouldAbort != nil {
            try check(ccurl_easy_setopt_xferinfo_callback(handle, curlProgressCallback))
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, userdata))
            try set(CURLOPT_NOPROGRESS, long: 0)
        }
        if let maxBodyBytes {
            // Refuses a body whose Content-Length is already over the limit before any of it is
            // read; bodies without one (or compressed ones that grow) meet the write callback's count.
            try set(CURLOPT_MAXFILESIZE_LARGE, offset: Int64(maxBodyBytes))
        }
        errorBuffer[0] = 0
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        let code = curl_easy_perform(handle)
        var status = 0
        guard code == CURLE_OK else {
            _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            if let maxBodyBytes, context.overflow != nil || code == CURLE_FILESIZE_EXCEEDED {
                let tooLarge = BodyTooLarge(limit: maxBodyBytes, received: context.overflow ?? 0, announced: context.contentLength)
                let detail =
                    tooLarge.received > 0
                    ? "the response body passed the limit of \(maxBodyBytes) bytes (\(tooLarge.received) bytes received)"
                    : "the response announces \(tooLarge.announced.map { "\($0) bytes" } ?? "a body"), over the limit of \(maxBodyBytes) bytes"
                throw CurlError(
                    CURLE_FILESIZE_EXCEEDED, detail: detail, responseCode: status, responseLines: context.rawLines,
                    bodyTooLarge: tooLarge)
            }
            throw CurlError(code, detail: String(cString: errorBuffer), responseCode: status, responseLines: context.rawLines)
        }
        try check(ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status))
        var urlPointer: UnsafeMutablePointer<CChar>?
        try check(ccurl_easy_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &urlPointer))
        let effectiveURL = urlPointer.map { String(cString: $0) } ?? ""

        return CurlResponse(
            status: status,
            headers: context.headers,
            body: context.body,
            effectiveURL: effectiveURL,
            responseLines: context.rawLines
        )
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else {
            throw CurlError(code)
        }
    }

    private func freeLists() {
        for list in lists.values {
            curl_slist_free_all(list)
        }
        lists.removeAll()
    }
}

/// State the C callbacks reach through their `userdata` pointer during one `perform()`.
/// Only the thread running `curl_easy_perform` touches it.
private final class TransferContext {
    var body = Data()
    var headers: [(name: String, value: String)] = []
    /// The last few response lines as received (SMTP replies go through the header callback).
    var rawLines: [String] = []
    let upload: [UInt8]?
    var uploadOffset = 0
    let parsesHeaderFields: Bool
    /// Asked once, before the upload's last bytes; `nil` after it answered.
    var uploadGate: (@Sendable () -> Bool)?
    let maxBodyBytes: Int?
    /// The body bytes that had arrived when the write callback refused one past `maxBodyBytes`.
    var overflow: Int?
    let shouldAbort: (@Sendable () -> Bool)?

    init(upload: [UInt8]?, maxBodyBytes: Int?, shouldAbort: (@Sendable () -> Bool)?, parsesHeaderFields: Bool) {
        self.upload = upload
        self.parsesHeaderFields = parsesHeaderFields
        self.maxBodyBytes = maxBodyBytes
        self.shouldAbort = shouldAbort
    }

    /// The final response's Content-Length, when it sent a readable one.
    var contentLength: Int? {
        headers.last { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) }
    }

    /// Keeps a piece of the body, or refuses it (false) when it would take the body past the limit.
    func receiveBody(_ chunk: UnsafeBufferPointer<CChar>) -> Bool {
        if let maxBodyBytes, body.count + chunk.count > maxBodyBytes {
            overflow = body.count + chunk.count
            return false
        }
        body.append(chunk)
        return true
    }

    func receiveHeaderLine(_ raw: UnsafeRawBufferPointer) {
        var bytes = raw[...]
        while let last = bytes.last, last == 10 || last == 13 { bytes = bytes.dropLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        rawLines.append(line)
        if rawLines.count > 8 { rawLines.removeFirst() }
        guard parsesHeaderFields else { return }
        if line.hasPrefix("HTTP/") {
            // A new status line starts another response (a redirect hop, a 100 Continue);
            // only the last response's fields describe the body we return.
            headers.removeAll()
            return
        }
        if let first = line.first, first == " " || first == "\t", let last = headers.indices.last {
            // Obsolete line folding: the line continues the previous field's value.
            headers[last].value += " " + line.trimmingCharacters(in: .whitespaces)
            return
        }
        guard let colon = line.firstIndex(of: ":") else {
            return
        }
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        if !name.isEmpty {
            headers.append((name: name, value: value))
        }
    }
}

private func context(_ userdata: UnsafeMutableRawPointer?) -> TransferContext? {
    userdata.map { Unmanaged<TransferContext>.fromOpaque($0).takeUnretainedValue() }
}

private let curlWriteCallback: ccurl_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let context = context(userdata) else {
        return 0
    }
    if let buffer, length > 0 {
        // libcurl calls this with decoded bytes when it decompresses (CURLOPT_ACCEPT_ENCODING), so the
        // limit counts what would be kept; a short count makes curl stop with CURLE_WRITE_ERROR.
        guard context.receiveBody(UnsafeBufferPointer(start: buffer, count: length)) else {
            return 0
        }
    }
    return length
}

private let curlHeaderCallback: ccurl_data_callback = { buffer, size, count, userdata in
    let length = size * count
    guard let context = context(userdata) else {
        return 0
    }
    if let buffer {
        context.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    }
    return length
}

private let curlReadCallback: ccurl_data_callback = { buffer, size, count, userdata in
    guard let context = context(userdata), let upload = context.upload, let buffer else {
        return Int(CURL_READFUNC_ABORT)
    }
    let length = min(size * count, upload.count - context.uploadOffset)
    guard length > 0 else {
        return 0
    }
    if context.uploadOffset + length == upload.count, let gate = context.uploadGate {
        context.uploadGate = nil
        guard gate() else {
            return Int(CURL_READFUNC_ABORT)
        }
    }
    let start = context.uploadOffset
    upload.withUnsafeBytes { bytes in
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(buffer).copyMemory(from: source + start, byteCount: length)
        }
    }
    context.uploadOffset += length
    return length
}

private let curlProgressCallback: ccurl_xferinfo_callback = { userdata, _, _, _, _ in
    guard let context = context(userdata), let shouldAbort = context.shouldAbort else {
        return 0
    }
    return shouldAbort() ? 1 : 0
}
