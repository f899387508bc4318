package com.odooupgradecourier.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.odooupgradecourier.Tools;
import com.odooupgradecourier.transfer.SshKeys;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Vector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator's real SFTP server: keys posted to request_sftp_access, only shared_file, upgraded_ once done. */
class SimulatorSftpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path tmp;
    UpgradePlatformSimulator sim;
    JsonNode request;
    String auth;

    @BeforeEach
    void start() throws Exception {
        sim = new UpgradePlatformSimulator(SimulatorConfig.defaults().httpPort(0).sftpPort(0).storageDir(tmp.resolve("sim"))
                .timings(Duration.ofMillis(100), Duration.ofMillis(200))).start();
        request = post("create", "contract=" + SimulatorConfig.DEMO_CONTRACT
                + "&email=a%40b.c&target=17.0&aim=test&filename=big%20db.dump", "application/x-www-form-urlencoded", null)
                .get("request");
        auth = "request=" + request.get("id").asText() + "&key=" + URLEncoder.encode(request.get("key").asText(), StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void keysPostedAsMultipartOpenAnSftpAccountLimitedToTheSharedFile() throws Exception {
        JSch jsch = new JSch();
        SshKeys keys = SshKeys.generate("courier-test");
        JsonNode access = requestAccess("# courier test key\n\n" + keys.publicKey());
        assertThat(access.get("sftp_user").asText()).isEqualTo("user_" + request.get("id").asText());
        assertThat(access.get("shared_file").asText()).isEqualTo("big_db.dump");
        assertThat(access.get("hostname").asText()).isEqualTo("127.0.0.1");
        assertThat(access.get("request_id").asLong()).isEqualTo(request.get("id").asLong());
        assertThat(access.get("sample_command").asText())
                .isEqualTo("sftp -P " + sim.sftpPort() + " " + access.get("sftp_user").asText() + "@127.0.0.1");

        jsch.addIdentity("courier", keys.privateKey(), keys.publicKeyBytes(), null);
        Session session = jsch.getSession(access.get("sftp_user").asText(), "127.0.0.1", access.get("sftp_port").asInt());
        session.setConfig("StrictHostKeyChecking", "no");
        session.connect(10_000);
        try {
            ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
            sftp.connect(10_000);
            byte[] dump = "PGDMP sent over sftp".getBytes(StandardCharsets.US_ASCII);
            sftp.put(new ByteArrayInputStream(dump), "big_db.dump");
            assertThatThrownBy(() -> sftp.put(new ByteArrayInputStream(dump), "other.dump")).isInstanceOf(SftpException.class);
            assertThatThrownBy(() -> sftp.mkdir("dir")).isInstanceOf(SftpException.class);
            assertThatThrownBy(() -> sftp.rm("big_db.dump")).isInstanceOf(SftpException.class);
            assertThatThrownBy(() -> sftp.get("upgraded_big_db.dump")).as("nothing to download before done")
                    .isInstanceOf(SftpException.class);
            @SuppressWarnings("unchecked")
            Vector<ChannelSftp.LsEntry> ls = sftp.ls(".");
            assertThat(ls).extracting(ChannelSftp.LsEntry::getFilename).filteredOn(n -> !n.startsWith("."))
                    .containsExactly("big_db.dump");
            assertThat(sim.sftpServer().bytesWritten()).isEqualTo(dump.length);

            assertThat(post("process", auth, "application/x-www-form-urlencoded", null).get("failures")).isEmpty();
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    post("status", auth, "application/x-www-form-urlencoded", null).at("/request/state").asText().equals("done"));
            assertThatThrownBy(() -> sftp.put(new ByteArrayInputStream(dump), "big_db.dump")).as("no upload once processed")
                    .isInstanceOf(SftpException.class);
            @SuppressWarnings("unchecked")
            Vector<ChannelSftp.LsEntry> done = sftp.ls(".");
            assertThat(done).extracting(ChannelSftp.LsEntry::getFilename).filteredOn(n -> !n.startsWith("."))
                    .as("once done, only the upgraded database").containsExactly("upgraded_big_db.dump");
            assertThatThrownBy(() -> sftp.get("big_db.dump")).isInstanceOf(SftpException.class);
            ByteArrayOutputStream upgraded = new ByteArrayOutputStream();
            sftp.get("upgraded_big_db.dump", upgraded);
            assertThat(upgraded.toString(StandardCharsets.ISO_8859_1)).contains("upgrade.json", "PGDMP sent over sftp");
            sftp.disconnect();
        } finally {
            session.disconnect();
        }
    }

    @Test
    void aKeyThatWasNotPostedIsRefused() throws Exception {
        JSch jsch = new JSch();
        requestAccess(SshKeys.generate("posted").publicKey());
        SshKeys other = SshKeys.generate("other");
        jsch.addIdentity("other", other.privateKey(), other.publicKeyBytes(), null);
        Session session = jsch.getSession("user_" + request.get("id").asText(), "127.0.0.1", sim.sftpPort());
        session.setConfig("StrictHostKeyChecking", "no");
        session.setConfig("PreferredAuthentications", "publickey,password");
        session.setPassword(request.get("key").asText());
        assertThatThrownBy(() -> session.connect(10_000)).isInstanceOf(JSchException.class).hasMessageContaining("Auth fail");
    }

    @Test
    void openSshSftpWorksWithTheSampleCommand() throws Exception {
        Tools.require("sftp");
        Tools.require("ssh-keygen");
        Tools.require("curl");
        Path key = tmp.resolve("id_ed25519");
        Tools.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "openssh-test", "-f", key.toString());
        String answer = Tools.run("curl", "-sS", sim.apiUrl() + "/request_sftp_access?" + auth,
                "-F", "ssh_keys=@" + key + ".pub");
        JsonNode access = JSON.readTree(answer).get("request");
        byte[] content = new byte[200_000];
        new java.util.Random(7).nextBytes(content);
        Path dump = Files.write(tmp.resolve("local.dump"), content);
        Path half = Files.write(tmp.resolve("half.dump"), java.util.Arrays.copyOf(content, 80_000));
        // a broken transfer (the first 80 kB), resumed with put -a as the platform's documentation shows
        Path batch = Files.writeString(tmp.resolve("batch"), "put " + half + " big_db.dump\nput -a " + dump + " big_db.dump\nls -l\n");
        List<String> command = new java.util.ArrayList<>(List.of(access.get("sample_command").asText().split(" ")));
        command.addAll(1, List.of("-b", batch.toString(), "-i", key.toString(), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=" + tmp.resolve("known_hosts"), "-o", "BatchMode=yes"));
        String out = Tools.run(command.toArray(String[]::new));
        assertThat(out).contains("big_db.dump");
        assertThat(tmp.resolve("sim").resolve(request.get("id").asText()).resolve("sftp/big_db.dump")).hasBinaryContent(content);
        assertThat(sim.sftpServer().bytesWritten()).as("resumed, not sent again").isEqualTo(200_000);
    }

    private JsonNode requestAccess(String authorizedKeys) throws Exception {
        String boundary = "----courier" + System.nanoTime();
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"ssh_keys\"; filename=\"authorized_keys\"\r\n"
                + "Content-Type: text/plain\r\n\r\n" + authorizedKeys + "\r\n--" + boundary + "--\r\n";
        JsonNode answer = post("request_sftp_access?" + auth, body, "multipart/form-data; boundary=" + boundary, null);
        assertThat(answer.get("failures")).isEmpty();
        return answer.get("request");
    }

    private JsonNode post(String method, String body, String contentType, Void unused) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/" + method))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }
}
