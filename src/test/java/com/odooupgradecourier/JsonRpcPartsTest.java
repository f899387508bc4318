package com.odooupgradecourier;

import com.odooupgradecourier.platform.JsonRpc;
import com.odooupgradecourier.platform.UnexpectedAnswerException;
import com.odooupgradecourier.transfer.Rsync;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts of the current protocol that judge what the platform (or a client of the simulator) said. */
class JsonRpcPartsTest {
    @TempDir
    Path tmp;

    @Test
    void theTokenTravelsOverHttpsOnlyButToThisMachine() {
        assertThatThrownBy(() -> new JsonRpc("http://upgrade.example.com", tmp)).hasMessageContaining("must be an https URL");
        new JsonRpc("https://upgrade.odoo.com", tmp);
        new JsonRpc("http://127.0.0.1:8070", tmp);
    }

    @Test
    void aTransferAnswerThatCannotBeUsedIsFinal() throws Exception {
        Rsync rsync = new Rsync(tmp, "", new com.odooupgradecourier.transfer.Progress(30));
        rsync.checkAnswer("2222", "[h]:2222 ssh-ed25519 AAAA\n", "download", "upgraded.dump");
        assertThatThrownBy(() -> rsync.checkAnswer("99999", "", "upload", null)).isInstanceOf(UnexpectedAnswerException.class);
        assertThatThrownBy(() -> rsync.checkAnswer("22 -oProxyCommand=x", "", "upload", null)).isInstanceOf(UnexpectedAnswerException.class);
        assertThatThrownBy(() -> rsync.checkAnswer("22", "[h]:22 ssh-ed25519 AAAA\u00e9\n", "upload", null))
                .isInstanceOf(UnexpectedAnswerException.class);
        for (String name : List.of("filestore", "upgrade.log", "../x", "-e sh", ".hidden", "a/b")) {
            assertThatThrownBy(() -> rsync.checkAnswer("22", "", "download", name)).as(name).isInstanceOf(UnexpectedAnswerException.class);
        }
    }

    @Test
    void theSimulatorsDataServerRunsOnlyRsyncOnDataInTheDirectionOfTheTransfer() throws Exception {
        java.lang.reflect.Method command = Class.forName("com.odooupgradecourier.simulator.RsyncSshServer")
                .getDeclaredMethod("command", String.class, Path.class, String.class);
        command.setAccessible(true);
        Path data = tmp.resolve("data");
        assertThat(command.invoke(null, "rsync --server -ltre.iLsfxCIvu --delete-after . /data/origin.dump", data, "upload"))
                .isEqualTo(List.of("rsync", "--server", "--munge-links", "-ltre.iLsfxCIvu", "--delete-after", ".",
                        data.toAbsolutePath() + "/origin.dump"));
        assertThat(command.invoke(null, "rsync --server --sender -logDtpre.iLsfxCIvu . /data/upgraded.dump", data, "download"))
                .isNotNull();
        for (String[] refused : new String[][]{
                {"rsync --server --sender -logDtpre.iLsfxCIvu . /data/origin.dump", "upload"},
                {"rsync --server -ltre.iLsfxCIvu . /data/x", "download"},
                {"rsync --server -ltre.iLsfxCIvu . /data/x", null},
                {"rsync --server -ltre.iLsfxCIvu . /data/../etc", "upload"},
                {"rsync --server -ltre.iLsfxCIvu . /etc/passwd", "upload"},
                {"rsync --server --log-file=/tmp/x . /data/x", "upload"},
                {"id", "upload"}}) {
            assertThat(command.invoke(null, refused[0], data, refused[1])).as(refused[0] + " " + refused[1]).isNull();
        }
    }

    @Test
    void routeFilesOfAnEarlierVersionStopTheStartWithWhatToDo() throws Exception {
        Path config = Files.createDirectories(tmp.resolve("config"));
        Files.copy(Path.of("application.properties"), config.resolve("application.properties"));
        try (var walk = Files.walk(Path.of("routes"))) {
            for (Path p : walk.toList()) {
                Files.copy(p, config.resolve(p.toString()));
            }
        }
        Files.writeString(config.resolve("routes/platform-v1/poll.yaml"), "# the poll route of an earlier version\n");
        CourierMain courier = new CourierMain(false, config, Map.of("upgrade.contract", "M1", "upgrade.email", "a@example.com",
                "courier.data-dir", tmp.resolve("data").toString(), "courier.drop-dir", tmp.resolve("drop").toString(),
                "courier.http-port", String.valueOf(CourierHarness.freePort())));
        try {
            assertThatThrownBy(courier::start).hasStackTraceContaining("holds platform-v1/poll.yaml of an earlier version")
                    .hasStackTraceContaining("Install routes/ afresh");
        } finally {
            courier.stop();
        }
    }
}
