package com.odooupgradecourier.store;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * The store as the service uses it: a connection that cannot be had is {@link StoreUnavailableException} (a fault that
 * passes: work waits until the store is back), and the log says so once when the store goes away (WARN) and once when
 * it is back (INFO), not once per attempt; the details of each failed attempt are at DEBUG.
 */
public final class GuardedStore implements DataSource {
    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger("courier");
    private final DataSource delegate;
    private final String shown;
    /** When the store went away (milliseconds), or 0 while it answers. */
    private final AtomicLong downSince = new AtomicLong();

    /** @param shown the store as shown to people (its URL with the password masked, or the SQLite file) */
    public GuardedStore(DataSource delegate, String shown) {
        this.delegate = delegate;
        this.shown = shown;
    }

    /** Whether the store answered the last attempt to reach it. */
    public boolean available() {
        return downSince.get() == 0;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection c;
        try {
            c = delegate.getConnection();
        } catch (SQLException e) {
            throw unavailable(e);
        }
        back();
        return c;
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        Connection c;
        try {
            c = delegate.getConnection(username, password);
        } catch (SQLException e) {
            throw unavailable(e);
        }
        back();
        return c;
    }

    private StoreUnavailableException unavailable(SQLException e) {
        long now = System.currentTimeMillis();
        if (downSince.compareAndSet(0, now)) {
            LOG.warn("The store ({}) is not available: {}. Work waits until it is back; nothing is lost", shown, e.getMessage());
        }
        LOG.debug("The store ({}) is still not available", shown, e);
        return new StoreUnavailableException("the store is not available: " + e.getMessage(), e);
    }

    private void back() {
        long since = downSince.getAndSet(0);
        if (since != 0) {
            LOG.info("The store ({}) is back after {} s: work goes on", shown, Math.max(1, (System.currentTimeMillis() - since) / 1000));
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : delegate.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || delegate.isWrapperFor(iface);
    }
}
